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
_ISO_TIME_EN = "an ISO 8601 date and time with its zone, e.g. 2026-12-01T08:00:00+07:00"


def _problem(err: Mapping[str, Any]) -> tuple[str, str]:
    """What is wrong, in Vietnamese and in plain English (pydantic's own words only where neither
    rule below knows the error)."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "missing":
        return "bắt buộc, chưa được nhập", "required, not given"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return ("không được để trống", "must not be empty") if n == 1 else (f"cần ít nhất {n} ký tự", f"needs at least {n} characters")
    if kind == "string_too_long":
        return f"dài quá: tối đa {ctx.get('max_length')} ký tự", f"too long: at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"cần ít nhất {ctx.get('min_length')} mục", f"needs at least {ctx.get('min_length')} items"
    if kind == "too_long":
        return f"nhiều quá: tối đa {ctx.get('max_length')} mục", f"too many: at most {ctx.get('max_length')} items"
    bounds = {"greater_than_equal": ("≥", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("≤", "le"), "less_than": ("<", "lt")}
    if kind in bounds:
        sign, key = bounds[kind]
        return f"phải {sign} {ctx.get(key)}", f"must be {sign} {ctx.get(key)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "phải là số nguyên", "must be a whole number"
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return "phải là số", "must be a number"
    if kind in ("bool_parsing", "bool_type"):
        return "phải là có/không (true/false)", "must be true or false"
    if kind == "string_type":
        return "phải là văn bản", "must be text"
    if kind.startswith("datetime") or kind in ("timezone_aware", "timezone_naive"):
        return f"phải là {_ISO_TIME}", f"must be {_ISO_TIME_EN}"
    if kind.startswith("date"):
        return "phải là ngày dạng YYYY-MM-DD", "must be a day written YYYY-MM-DD"
    if kind in ("enum", "literal_error"):
        return f"giá trị không được chấp nhận; chấp nhận: {ctx.get('expected')}", f"not an accepted value; accepted: {ctx.get('expected')}"
    msg = str(err.get("msg", ""))
    if kind == "string_pattern_mismatch":
        return "sai định dạng", msg
    if kind == "extra_forbidden":
        return "trường này không được chấp nhận", "this field is not accepted"
    if kind in ("dict_type", "model_type", "model_attributes_type", "list_type"):
        return "sai kiểu dữ liệu", msg
    if kind in ("uuid_parsing", "uuid_type"):
        return "không phải mã hợp lệ", "not a valid id"
    if kind == "value_error":  # our own validators' text, already bilingual where it matters
        return msg.removeprefix("Value error, "), msg.removeprefix("Value error, ")
    return msg, msg


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
        problem_vi, problem = _problem(err)
        fields.append({"field": _field(loc), "problem": problem, "problem_vi": problem_vi, "type": str(err.get("type", ""))})
        vi.append(f"{_field_vi(loc)}: {problem_vi}")
        en.append(f"{_field(loc)}: {problem}")
    return "; ".join(vi), "; ".join(en), fields
