// Why a signer cannot give a passphrase here, by the API's ``signing_key`` (minutes and notice pages).
import { h } from "/static/app.js";

// Said before any passphrase is asked: a signer without a key on the server learns what to do first.
export const KEY_PROBLEM = {
  token: () => ["Chứng thư số của bạn nằm trên thiết bị ký số (USB token): ký bằng lệnh dưới đây trên máy tính của bạn.", h("span", { class: "en" }, " Your key is on a USB token: sign with the command below.")],
  none: () => ["Bạn chưa có chứng thư số được đăng ký: hãy nhờ quản trị viên đăng ký tệp .p12 (hoặc chứng thư của USB token) rồi tải lại trang này.",
    h("span", { class: "en" }, " No signing certificate is registered for you: ask the administrator to register it, then reload.")],
  missing: () => ["Tệp chứng thư số của bạn không còn trên máy chủ: quản trị viên cần đăng ký lại.", h("span", { class: "en" }, " Your certificate file is missing on the server: the administrator must register it again.")],
  expired: () => ["Chứng thư số của bạn đã hết hạn: hãy gia hạn với tổ chức cấp chứng thư và nhờ quản trị viên đăng ký chứng thư mới.",
    h("span", { class: "en" }, " Your signing certificate has expired: renew it and have the administrator register the new one.")],
  not_yet_valid: () => ["Chứng thư số của bạn chưa đến ngày có hiệu lực: hãy ký khi chứng thư có hiệu lực, hoặc nhờ quản trị viên đăng ký chứng thư khác.",
    h("span", { class: "en" }, " Your signing certificate is not valid yet: sign once it is, or have the administrator register another.")],
};
