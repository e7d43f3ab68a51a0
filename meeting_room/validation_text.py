"""What a pydantic validation error says, in Vietnamese first: a clerk who left a title empty reads
"Tiêu đề (title): không được để trống", not pydantic's English. One place for both the API's
request checks and the services' own domain values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Field names as people on the pages know them; the field's own name stays beside it (tools and tests read it).
_LABELS = {
    "title": "Tiêu đề",
    "starts_at": "Thời gian bắt đầu",
    "ends_at": "Thời gian kết thúc",
    "location": "Địa điểm",
    "description": "Mô tả",
    "full_name": "Họ và tên",
    "username": "Tên đăng nhập",
    "password": "Mật khẩu",
    "new_password": "Mật khẩu mới",
    "current_password": "Mật khẩu hiện tại",
    "email": "Thư điện tử",
    "reason": "Lý do",
    "text": "Nội dung",
    "body_id": "Cơ quan",
    "room_id": "Phòng họp",
    "member_id": "Thành viên",
    "chair_id": "Chủ tọa",
    "secretary_id": "Thư ký",
    "presenter_id": "Người trình bày",
    "role": "Vai trò",
    "roles": "Vai trò",
    "kind": "Loại",
    "name": "Tên",
    "short_name": "Tên viết tắt",
    "label": "Nhãn",
    "options": "Các phương án",
    "secrecy": "Hình thức bỏ phiếu",
    "rule": "Quy tắc biểu quyết",
    "date_from": "Từ ngày",
    "date_to": "Đến ngày",
    "q": "Từ khóa",
    "limit": "Số dòng",
    "offset": "Vị trí bắt đầu",
    "passphrase": "Mật khẩu chứng thư",
    "seats": "Số chỗ ngồi",
}

_ISO_TIME = "ngày giờ ISO 8601 có múi giờ, ví dụ 2026-12-01T08:00:00+07:00"


def _problem_vi(err: Mapping[str, Any]) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "missing":
        return "bắt buộc, chưa được nhập"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "không được để trống" if n == 1 else f"cần ít nhất {n} ký tự"
    if kind == "string_too_long":
        return f"dài quá: tối đa {ctx.get('max_length')} ký tự"
    if kind == "too_short":
        return f"cần ít nhất {ctx.get('min_length')} mục"
    if kind == "too_long":
        return f"nhiều quá: tối đa {ctx.get('max_length')} mục"
    bounds = {"greater_than_equal": ("≥", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("≤", "le"), "less_than": ("<", "lt")}
    if kind in bounds:
        sign, key = bounds[kind]
        return f"phải {sign} {ctx.get(key)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "phải là số nguyên"
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return "phải là số"
    if kind in ("bool_parsing", "bool_type"):
        return "phải là có/không (true/false)"
    if kind == "string_type":
        return "phải là văn bản"
    if kind.startswith("datetime") or kind in ("timezone_aware", "timezone_naive"):
        return f"phải là {_ISO_TIME}"
    if kind.startswith("date"):
        return "phải là ngày dạng YYYY-MM-DD"
    if kind in ("enum", "literal_error"):
        return f"giá trị không được chấp nhận; chấp nhận: {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return "sai định dạng"
    if kind == "extra_forbidden":
        return "trường này không được chấp nhận"
    if kind in ("dict_type", "model_type", "model_attributes_type", "list_type"):
        return "sai kiểu dữ liệu"
    if kind in ("uuid_parsing", "uuid_type"):
        return "không phải mã hợp lệ"
    if kind == "value_error":  # our own validators' text, already bilingual where it matters
        return str(err.get("msg", "")).removeprefix("Value error, ")
    return str(err.get("msg", ""))


def _field(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _field_vi(loc: Sequence[Any]) -> str:
    name = _field(loc)
    last = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    label = _LABELS.get(last)
    return f"{label} ({name})" if label else name


def describe(errors: Sequence[Mapping[str, Any]], *, skip: int = 0) -> tuple[str, str, list[dict[str, str]]]:
    """Both texts and the per-field details of pydantic ``errors`` (``skip``: leading parts of each
    location that are not a field, such as FastAPI's "body" or "query")."""
    fields, vi, en = [], [], []
    for err in errors:
        loc = list(err.get("loc", ()))[skip:] or list(err.get("loc", ()))
        problem_vi = _problem_vi(err)
        problem = str(err.get("msg", ""))
        fields.append({"field": _field(loc), "problem": problem, "problem_vi": problem_vi, "type": str(err.get("type", ""))})
        vi.append(f"{_field_vi(loc)}: {problem_vi}")
        en.append(f"{_field(loc)}: {problem}")
    return "; ".join(vi), "; ".join(en), fields
