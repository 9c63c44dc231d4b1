#!/usr/bin/env python3
"""Write the committed seed corpora in fuzz/seeds/<target>/ (run from anywhere).

Replies are signed like docs/protocol.md §2 with the documented test key; the signer is checked
against the official example vector before anything is written.
"""
import hashlib
import hmac
import os
import struct

KEY = "192006250b4c09247ec02edce69f6a2d"
HERE = os.path.dirname(os.path.abspath(__file__))
APPID, MCH = "wxd930ea5d5a258f4f", "10000100"
SUB_APPID, SUB_MCH = "wx8888888888888888", "1900000109"
OUT_TRADE_NO = "20250131120000-0001"
CODE = "134567890123454321"


def sign(fields, t="MD5"):
    kept = sorted((n, v) for n, v in fields if n != "sign" and v != "")
    s = "&".join(f"{n}={v}" for n, v in kept)
    s = (s + "&" if kept else "") + "key=" + KEY
    if t == "MD5":
        return hashlib.md5(s.encode()).hexdigest().upper()
    return hmac.new(KEY.encode(), s.encode(), hashlib.sha256).hexdigest().upper()


VECTOR = [("appid", APPID), ("mch_id", MCH), ("device_info", "1000"), ("body", "test"),
          ("nonce_str", "ibuaiVcKdpRxkhJA")]
assert sign(VECTOR) == "9A0A8659F005D6984697E2CA0A9CF3B7"
assert sign(VECTOR, "HMAC-SHA256") == \
    "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"


def esc(v):
    out = []
    for c in v:
        if c == "&":
            out.append("&amp;")
        elif c == "<":
            out.append("&lt;")
        elif c == ">":
            out.append("&gt;")
        elif c in "\t\n":
            out.append(c)
        elif ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f:
            out.append(f"&#{ord(c)};")
        else:
            out.append(c)
    return "".join(out)


def encode(fields):
    return "<xml>" + "".join(f"<{n}>{esc(v)}</{n}>" for n, v in fields) + "</xml>"


def reply(extra, t="MD5", sp=False):
    f = [("return_code", "SUCCESS"), ("return_msg", "OK"), ("appid", APPID), ("mch_id", MCH)]
    if sp:
        f += [("sub_appid", SUB_APPID), ("sub_mch_id", SUB_MCH)]
    f += [("nonce_str", "sthBJ9QyUG6vkrjJ")] + extra
    return encode(f + [("sign", sign(f, t))])


PAID = [("result_code", "SUCCESS"), ("device_info", "TILL-3"),
        ("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"), ("is_subscribe", "N"),
        ("trade_type", "MICROPAY"), ("bank_type", "CMB_DEBIT"), ("fee_type", "CNY"),
        ("total_fee", "2500"), ("settlement_total_fee", "2500"), ("coupon_fee", "300"),
        ("coupon_count", "2"), ("coupon_id_0", "10000001"), ("coupon_fee_0", "200"),
        ("coupon_type_0", "CASH"), ("coupon_id_1", "10000002"), ("coupon_fee_1", "100"),
        ("coupon_type_1", "NO_CASH"), ("cash_fee_type", "CNY"), ("cash_fee", "2200"),
        ("transaction_id", "4200002345202501311234567890"), ("out_trade_no", OUT_TRADE_NO),
        ("attach", "桌号 7 & 外带"), ("time_end", "20250131120005")]
USERPAYING = [("result_code", "FAIL"), ("err_code", "USERPAYING"),
              ("err_code_des", "需要用户输入支付密码"), ("out_trade_no", OUT_TRADE_NO)]
ORDER_PAID = [("trade_state", "SUCCESS"), ("trade_state_desc", "支付成功")] + PAID[1:]
ORDER_NOTPAY = [("result_code", "SUCCESS"), ("trade_state", "USERPAYING"),
                ("trade_state_desc", "需要用户输入支付密码"), ("out_trade_no", OUT_TRADE_NO)]
REVERSE = [("result_code", "SUCCESS"), ("recall", "Y")]
REFUNDS = [("result_code", "SUCCESS"), ("transaction_id", "4200002345202501311234567890"),
           ("out_trade_no", OUT_TRADE_NO), ("total_fee", "2500"), ("refund_count", "2"),
           ("out_refund_no_0", "R20250131-0001"), ("refund_id_0", "50000001"),
           ("refund_fee_0", "500"), ("refund_status_0", "SUCCESS"),
           ("refund_success_time_0", "2025-01-31 13:00:00"),
           ("out_refund_no_1", "R20250131-0002"), ("refund_id_1", "50000002"),
           ("refund_fee_1", "100"), ("refund_status_1", "PROCESSING")]
PROTO_FAIL = "<xml><return_code><![CDATA[FAIL]]></return_code>" \
             "<return_msg><![CDATA[签名错误]]></return_msg></xml>"
DOCTYPE = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>' \
          "<xml><return_code>SUCCESS</return_code><a>&x;</a></xml>"
LAUGHS = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
    for i in range(1, 10)) + "]><xml><a>&lol9;</a></xml>"
BILL = ("\ufeff交易时间,公众账号ID,商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
        "付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率\r\n"
        "`2025-01-31 12:00:01,`wxd930ea5d5a258f4f,`10000100,`POS-01,`4200000001,`T1,`oUpF8u,"
        "`MICROPAY,`SUCCESS,`CMB_CREDIT,`CNY,`12.34,`0.00,`品牌-门店,饮料,`,`0.07,`0.60%\r\n"
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
        "`1,`12.34,`0.00,`0.00,`0.07,`12.34,`0.00\r\n")
BILL_FAIL = "<xml><return_code><![CDATA[FAIL]]></return_code>" \
            "<return_msg><![CDATA[No Bill Exist]]></return_msg></xml>"


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


replies = {
    "micropay_paid_md5.xml": reply(PAID),
    "micropay_paid_hmac.xml": reply(PAID, "HMAC-SHA256"),
    "micropay_paid_sp.xml": reply(PAID, sp=True),
    "micropay_userpaying.xml": reply(USERPAYING),
    "orderquery_paid.xml": reply([("result_code", "SUCCESS")] + ORDER_PAID),
    "orderquery_userpaying.xml": reply(ORDER_NOTPAY),
    "reverse_recall.xml": reply(REVERSE),
    "refundquery_two.xml": reply(REFUNDS),
    "protocol_fail.xml": PROTO_FAIL,
    "doctype.xml": DOCTYPE,
    "billion_laughs.xml": LAUGHS,
}
for name, doc in replies.items():
    write("reply_verify", name, doc)
write("reply_verify", "statement.csv", BILL)
write("reply_verify", "bill_fail.xml", BILL_FAIL)

xml_docs = {
    "paid.xml": reply(PAID),
    "userpaying.xml": reply(USERPAYING),
    "doctype.xml": DOCTYPE,
    "billion_laughs.xml": LAUGHS,
    "refs_cdata.xml": '<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <return_code>'
                      "<![CDATA[SUCCESS]]></return_code>\n  <body>a &amp; b &lt;c&gt; "
                      "&#20013;&#x6587; &quot;&apos;</body>\n  <mixed>a<![CDATA[<b>]]>c"
                      "</mixed><empty></empty><empty2/><!-- note -->\n</xml>\n",
    "control_chars.xml": encode([("k", "line1\r\nline2\rline3\x01]]>"), ("n", "1")]),
    "nested.xml": "<xml><a><b>1</b></a></xml>",
    "duplicate.xml": "<xml><a>1</a><a>2</a></xml>",
    "truncated_code.xml": f"<xml><auth_code>{CODE}</auth_code><a>&evil;",
    "custom_entity.xml": f"<xml>\x07<auth_code>{CODE}</auth_code>\n\n\n<a>&nbsp;</a></xml>",
    "trailing.xml": "<xml><a>1</a></xml><xml></xml>",
    "pi.xml": "<xml><?pi x?><a>1</a></xml>",
    "gbk.xml": b"<xml><body>\xd6\xd0\xce\xc4</body></xml>",
}
for name, doc in xml_docs.items():
    write("xml_decode", name, doc)

codes = {"wechat": CODE, "wechat_15": "159999999999999999", "alipay": "281234567890123456",
         "unionpay": "6212345678901234567", "short": "1345678901", "long": CODE + "0",
         "prefix_16": "161234567890123456", "letters": "13456789O123454321",
         "fullwidth": "１３４５６７８９０１２３４５４３２１", "aim": "]Q1" + CODE}
for name, c in codes.items():
    write("authcode", name, c)

amounts = [(0, "12.34"), (1, " 0.01 "), (1, "10000.00"), (1, "50000.01"), (0, "007"),
           (0, "1.234"), (0, "1."), (0, "-1"), (0, "0.00"), (0, "184467440737095516.15"),
           (0, "１２"), (2, "0.02")]
for i, (sel, a) in enumerate(amounts):
    write("money", f"amount_{i:02}", bytes([sel]) + a.encode())
write("money", "raw_ceiling", bytes([3]) + struct.pack("<Q", 9999) + b"99.99")


def serial(sel, cuts, stream):
    return bytes([sel, len(cuts)] + cuts) + stream


C = CODE.encode()
streams = {
    "crlf_two_codes": serial(0, [40, 128], C + b"\r\n104567890123450000\r"),
    "stx_etx": serial(0, [7], b"\x02" + C + b"\x03"),
    "aim_tab": serial(0, [3, 200], b"]Q1" + C + b"\t"),
    "prefix_suffix": serial(1 | (1 << 2), [100], b"PAY:" + C + b"#!PAY:104567890123450000#!"),
    "junk": serial(0, [], b"\x00\xff\x1b" + C + b"\x07\r\x00\x02xx\x02" + C + b"\n"),
    "overlong": serial(0, [60, 61, 250], b"7" * 200 + b"\r" + C + b"\r"),
    "invalid_scans": serial(0, [90], b"281234567890123456\r6212345678901234567\rabc\r"),
    "no_terminator": serial(0x20, [128], C),
    "dup_window_off": serial(0x20, [128], C + b"\r" + C + b"\r"),
}
for name, s in streams.items():
    write("serial_decoder", name, s)


def kbd_reports(text, numbered=False):
    out = b""
    for ch in text:
        if ch == "\r":
            u, mod = 0x28, 0
        elif ch == "0":
            u, mod = 0x27, 0
        elif ch.isdigit():
            u, mod = 0x1E + int(ch) - 1, 0
        elif ch == "]":
            u, mod = 0x30, 0
        else:
            u, mod = 0x04 + ord(ch.lower()) - ord("a"), 0x02 if ch.isupper() else 0
        key = bytes([mod, 0, u, 0, 0, 0, 0, 0])
        up = bytes(8)
        if numbered:
            key, up = b"\x01" + key, b"\x01" + up
        out += bytes([len(key)]) + key + bytes([len(up)]) + up
    return out


def pos_report(data, continued=False, flag_at=63):
    r = bytearray(64)
    r[0], r[1] = 0x02, len(data)
    r[2:2 + len(data)] = data
    r[flag_at] = 1 if continued else 0
    return bytes([64]) + bytes(r)


LAY_STD = bytes([0, 1, 2, 63])
write("hid_reports", "kbd_code_enter", bytes([0]) + LAY_STD + kbd_reports(CODE + "\r"))
write("hid_reports", "kbd_numbered_aim", bytes([1]) + LAY_STD + kbd_reports("]Q1" + CODE + "\r", True))
write("hid_reports", "kbd_nine_byte", bytes([2]) + LAY_STD + kbd_reports(CODE + "\r", True))
write("hid_reports", "kbd_rollover", bytes([0]) + LAY_STD + bytes([8, 0, 0, 0x1E, 0, 0, 0, 0, 0,
      8, 0, 0, 1, 1, 1, 1, 1, 1, 8, 0, 0, 0x1E, 0x1F, 0, 0, 0, 0, 255, 8, 0, 0, 0x28, 0, 0, 0, 0, 0]))
write("hid_reports", "pos_single", bytes([3]) + LAY_STD + pos_report(b"]C0" + C + b"\r"))
LONG = bytes(b"0123456789"[i % 10] for i in range(130))
write("hid_reports", "pos_continued", bytes([3]) + LAY_STD + pos_report(LONG[:56], True)
      + pos_report(LONG[56:112], True) + pos_report(LONG[112:]))
vendor = bytearray(64)
vendor[0], vendor[1], vendor[2] = 2, 18, ord("Q")
vendor[3:21] = C
write("hid_reports", "pos_vendor", bytes([3]) + bytes([(2 << 1) | 1, 1, 3, 62]) + bytes([64]) + bytes(vendor))
print("seeds written under", HERE)
