"""mask_pii on the ways people actually write personal numbers (issue 13 item 11).

Each row is a realistic sentence and either the exact masked output, or the secret numbers that
must no longer appear in any digit form (full-width, Chinese numerals, percent-encoded, spaced).
A second table lists what must stay exactly as written: dates, times, prices, case and order
numbers, counts, URLs without personal data."""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from dataclasses import dataclass, field

import pytest

from nlp.pii import luhn_ok, mask_pii

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(body17: str) -> str:
    """A mainland ID number with a correct checksum for ``body17``."""
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, ID_WEIGHTS)) % 11]


def make_card(body: str) -> str:
    """A card number with a correct Luhn digit appended to ``body``."""
    return next(body + c for c in "0123456789" if luhn_ok(body + c))


ID = make_id("44030119900307123")  # 440301199003071230
ID2 = make_id("32010619851111045")  # 320106198511110450
IDX = "11010519491231002X"  # the GB 11643 example, checksum X
ID15 = "440301900307123"
MOBILE = "13812345678"
MOBILE2 = "13800138000"
CARD = make_card("622202123456789")  # 16 digits, Luhn valid
CARD19 = make_card("621700012345678901")  # 19 digits
CARD_BAD = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)  # fails Luhn
CN = dict(zip("0123456789", "〇一二三四五六七八九"))
CN_FIN = dict(zip("0123456789", "零壹贰叁肆伍陆柒捌玖"))
FW = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
MATH = str.maketrans("0123456789", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗")
CIRCLED = dict(zip("123456789", "①②③④⑤⑥⑦⑧⑨"))


def cn(number: str, table: dict[str, str] = CN) -> str:
    return "".join(table.get(ch, ch) for ch in number)


def grouped(number: str, sizes: tuple[int, ...], sep: str = " ") -> str:
    out, pos = [], 0
    for size in sizes:
        out.append(number[pos : pos + size])
        pos += size
    return sep.join(out)


@dataclass(frozen=True)
class Case:
    text: str
    expected: str | None = None  # the exact masked text, when given
    secrets: tuple[str, ...] = field(default_factory=tuple)  # must not survive in any form


def gone(text: str, *secrets: str) -> Case:
    return Case(text, None, secrets)


MASKED = [
    # --- ID numbers (身份证) ---
    Case(f"举报人身份证号{ID}，请核实", "举报人身份证号440301********1230，请核实"),
    Case(f"身份证号：{grouped(ID, (3, 3, 4, 4, 4))}。", "身份证号：440 301 **** **** 1230。"),
    Case(f"身份证 {grouped(ID, (3, 3, 4, 4, 4), '-')} 本人", "身份证 440-301-****-****-1230 本人"),
    Case(f"证件号{grouped(ID, (6, 8, 4), '.')}", "证件号440301.********.1230"),
    Case(f"身份证{grouped(ID, (6, 4, 4, 4))}", "身份证440301 **** **** 1230"),
    Case(f"她的身份证是{grouped(ID2, (6, 8, 4))}，家住南京", "她的身份证是320106 ******** 0450，家住南京"),
    Case(f"身份证：{IDX}", "身份证：110105********002X"),
    Case(f"身份证：{grouped(IDX, (6, 8, 4))}", "身份证：110105 ******** 002X"),
    Case(f"老身份证{ID15}仍在用", "老身份证440301*****7123仍在用"),
    gone(f"身份证号码{ID.translate(FW)}（全角）", ID),
    gone(f"身份证号{cn(ID)}", ID),
    gone(f"身份证：{cn(ID, CN_FIN)}", ID),
    gone(f"身份证号{grouped(cn(ID), (6, 8, 4))}", ID),
    gone(f"身份证{ID.translate(ARABIC)}", ID),
    gone(f"举报人（身份证{ID[:6]}·{ID[6:14]}·{ID[14:]}）实名举报", ID),
    gone(f"身份证号 {ID[:9]} {ID[9:]}", ID),
    # --- mobiles ---
    Case(f"举报人电话{MOBILE}", "举报人电话138****5678"),
    Case("联系电话1381 2345 678，随时可打", "联系电话138* ***5 678，随时可打"),
    Case("手机：1381-2345-678", "手机：138*-***5-678"),
    Case("手机 138.1234.5678 张先生", "手机 138.****.5678 张先生"),
    Case("电话(138)1234-5678", "电话(138)****-5678"),
    Case("电话（138）1234 5678", "电话（138）**** 5678"),
    Case("电话 (138) 1234 5678", "电话 (138) **** 5678"),
    Case("手机+86-138-1234-5678", "手机+86-138-****-5678"),
    Case("电话 0086 13812345678", "电话 0086 138****5678"),
    Case("微信同号 138—1234—5678", "微信同号 138—****—5678"),
    Case("电话13812345678。2024年起在此工作", "电话138****5678。2024年起在此工作"),
    Case("电话：138 1234 5678 2024年", "电话：138 **** 5678 2024年"),
    Case("call 1 3 8 1 2 3 4 5 6 7 8 now", "call 1 3 8 * * * * 5 6 7 8 now"),
    gone(f"加我{cn(MOBILE)}私聊", MOBILE),
    Case(f"电话{cn(MOBILE)}", "电话一三八****五六七八"),
    gone(f"手机{cn(MOBILE).replace('一', '幺')}", MOBILE),
    gone(f"电话 {grouped(cn(MOBILE), (3, 4, 4))}", MOBILE),
    gone(f"联系我{cn(MOBILE, CN_FIN)}", MOBILE),
    gone(f"电话{cn(MOBILE[:3])}{MOBILE[3:]}", MOBILE),
    gone(f"电话{MOBILE[:3]}{cn(MOBILE[3:])}", MOBILE),
    gone(f"电话{MOBILE.translate(FW)}", MOBILE),
    gone(f"电话{grouped(MOBILE.translate(FW), (3, 4, 4), '－')}", MOBILE),
    gone(f"电话{MOBILE.translate(ARABIC)}", MOBILE),
    gone(f"电话{MOBILE.translate(MATH)}", MOBILE),
    gone("电话1③⑧①②③④⑤⑥⑦⑧", MOBILE),
    gone(f"家属电话：{MOBILE2}，举报人电话：{MOBILE}", MOBILE, MOBILE2),
    gone(f"tel:{MOBILE}", MOBILE),
    gone(f"电话{MOBILE}/{MOBILE2}", MOBILE, MOBILE2),
    # --- landlines ---
    Case("办公室01062345678", "办公室010****5678"),
    Case("座机 0755 8765 4321", "座机 0755 **** 4321"),
    Case("电话0755-87654321", "电话0755-****4321"),
    Case("电话0755 87654321转808", "电话0755 ****4321转808"),
    Case("（0755）8765-4321", "（0755）****-4321"),
    Case("联系电话 075587654321", "联系电话 0755****4321"),
    Case("电话：0571-8888 6666", "电话：0571-**** 6666"),
    Case("家里座机：8765 4321", "家里座机：**** 4321"),
    gone(f"电话{'075587654321'.translate(FW)}", "075587654321"),
    gone("电话〇七五五八七六五四三二一", "075587654321"),
    # --- bank cards ---
    Case(f"卡号{CARD}", f"卡号6222********{CARD[-4:]}"),
    Case(f"银行卡 {grouped(CARD19, (6, 13))} 户名张某", f"银行卡 {CARD19[:4]}** *********{CARD19[-4:]} 户名张某"),
    Case(f"银行卡号：{grouped(CARD, (4, 4, 4, 4))}", f"银行卡号：6222 **** **** {CARD[-4:]}"),
    Case(f"卡号{grouped(CARD19, (4, 4, 4, 4, 3))}", None, (CARD19,)),
    Case(f"收款账户{CARD_BAD}（工行）", f"收款账户6222********{CARD_BAD[-4:]}（工行）"),
    Case(f"转账到卡号 {grouped(CARD_BAD, (4, 4, 4, 4), '-')}", f"转账到卡号 6222-****-****-{CARD_BAD[-4:]}"),
    Case(f"他给的是 {CARD}", f"他给的是 6222********{CARD[-4:]}"),
    Case(f"他发来的 {grouped(CARD_BAD, (4, 4, 4, 4))} 打不进钱", f"他发来的 6222 **** **** {CARD_BAD[-4:]} 打不进钱"),
    gone(f"卡号：{grouped(CARD19, (6, 13), '-')}", CARD19),
    gone(f"卡号{CARD.translate(FW)}", CARD),
    gone(f"卡号{cn(CARD)}", CARD),
    # --- emails ---
    Case("邮箱zhangsan@163.com。", "邮箱z*******@163.com。"),
    Case("邮箱 zhangsan[at]163.com", "邮箱 z*******[at]163.com"),
    Case("邮箱 zhangsan(at)qq.com", "邮箱 z*******(at)qq.com"),
    Case("邮箱 zhangsan [at] 163 [dot] com", "邮箱 z******* [at] 163 [dot] com"),
    Case("邮箱 zhangsan @ 163.com", "邮箱 z******* @ 163.com"),
    Case("邮箱zhangsan@163 . com", "邮箱z*******@163 . com"),
    Case("邮箱：zhangsan＠163.com", "邮箱：z*******＠163.com"),
    Case("邮箱：ｚｈａｎｇｓａｎ＠１６３．ｃｏｍ", "邮箱：ｚ*******＠１６３．ｃｏｍ"),
    Case("邮箱 zhangsan#qq.com（#换成@）", "邮箱 z*******#qq.com（#换成@）"),
    Case("邮箱 zhangsan at 163 dot com", "邮箱 z******* at 163 dot com"),
    Case("邮箱zhangsan@例子.中国", "邮箱z*******@例子.中国"),
    Case("邮箱 lisi@法院.公司 转交", "邮箱 l***@法院.公司 转交"),
    Case("邮箱：wang.wu@gov.cn", "邮箱：w******@gov.cn"),
    Case("邮箱zhangsan艾特163.com", "邮箱z*******艾特163.com"),
    Case("邮箱zhangsan@163。com", "邮箱z*******@163。com"),
    # --- URLs with personal data ---
    Case(
        f"https://x.example.cn/report?mobile={MOBILE2}&email=zhangsan@163.com&page=2",
        "https://x.example.cn/report?mobile=138****8000&email=z*******@163.com&page=2",
    ),
    Case(
        "https://x.example.cn/r?mobile=13800138000&email=zhangsan%40163.com",
        "https://x.example.cn/r?mobile=138****8000&email=z*******%40163.com",
    ),
    Case(
        f"原帖 http://bbs.example.cn/user/{MOBILE}/posts 已删除",
        "原帖 http://bbs.example.cn/user/138****5678/posts 已删除",
    ),
    Case(f"见 https://a.example.cn/p?sfzh={ID}#top", "见 https://a.example.cn/p?sfzh=440301********1230#top"),
    Case("https://a.example.cn/p?tel=12345", "https://a.example.cn/p?tel=*****"),
    Case(
        f"https://a.example.cn/p?q=%E7%94%B5%E8%AF%9D{MOBILE}", "https://a.example.cn/p?q=%E7%94%B5%E8%AF%9D138****5678"
    ),
    gone(f"https://a.example.cn/s?q={urllib.parse.quote(cn(MOBILE))}", MOBILE),
    gone(f"https://a.example.cn/s?wd={urllib.parse.quote(MOBILE.translate(FW))}", MOBILE),
    Case(f"https://a.example.cn/u?cardno={CARD}", f"https://a.example.cn/u?cardno=6222********{CARD[-4:]}"),
    Case(f"https://a.example.cn/u#phone={MOBILE}", "https://a.example.cn/u#phone=138****5678"),
    Case(f"www.example.cn/contact/{MOBILE}.html", "www.example.cn/contact/138****5678.html"),
    gone(f"链接：https://a.example.cn/x?q={MOBILE[:3]}+{MOBILE[3:7]}+{MOBILE[7:]}", MOBILE),
    # --- several in one post ---
    gone(
        f"张某（身份证{grouped(ID, (6, 8, 4))}，电话{cn(MOBILE)}，邮箱zs[at]qq.com）称其父亲在看守所死亡，"
        f"卡号{CARD_BAD}，妻子电话0755 8765 4321",
        ID,
        MOBILE,
        CARD_BAD,
        "075587654321",
    ),
]

UNCHANGED = [
    "2026-11-27 14:20:05 发布",
    "20261127 晚间，警方通报",
    "时间：2026年11月27日 20:30",
    "2026.11.27 09:00—12:00 开庭",
    "2026/11/27",
    "价格 ¥1,380.00，另收运费¥12.50",
    "罚款1380000元，涉案金额12345678.90元",
    "订单号 202611271234567890 已发货",
    "订单号 1234567890123456",
    "（2024）京0105刑初123号判决书",
    "案号(2024)粤03刑终123号",
    "（2023）沪0115民初12345号",
    "1990年至2026年，共36年",
    "阅读量1300万，转发2.3万，评论8901条",
    "浏览 1,234,567 次",
    "热线 400-123-4567 与 12345 政务热线，报警110，急救120",
    "微博ID 1700000000000 时间戳",
    "版本 1.2.3，端口 8080，邮编518000",
    "IP 192.168.100.123 访问异常",
    "第一二三季度同比增长",
    "二〇二六年十一月二十七日",
    "一九九〇年三月七日出生",
    "统一社会信用代码 91440300MA5EXAMPLE",
    "https://www.gov.cn/xinwen/2026-11/27/content_6912345.htm",
    "https://m.weibo.cn/status/4981234567890123",
    "https://weibo.com/1234567890/N8abcdE?from=page_100505&refer_flag=0000015010",
    "https://news.example.cn/a/20261127/000123.html?utm_source=wx&page=2",
    "原文 http://bbs.example.cn/thread-12345-1-1.html 已删除",
    "@人民日报 转发微博 //@新华社: 关注",
    "#话题# 某地警方通报",
    "邮件请勿回复 noreply",
    "比分 3:2，第88分钟",
    "身高175cm，体重65kg",
    "电话号码已隐去（138****5678）",
    "",
]


def digits_of(text: str) -> str:
    """Every digit ``text`` shows, in any script or encoding, as one ASCII string."""
    text = urllib.parse.unquote_plus(text)
    out = []
    for ch in text:
        value = unicodedata.digit(ch, None)
        if value is None:
            folded = unicodedata.normalize("NFKC", ch)
            value = int(folded) if len(folded) == 1 and folded.isdigit() else None
        if value is None:
            for table in (CN, CN_FIN):
                for d, c in table.items():
                    if c == ch:
                        value = int(d)
            if ch == "幺":
                value = 1
        if value is not None:
            out.append(str(value))
        elif ch in "Xx":
            out.append("X")
    return "".join(out)


def leaked(text: str, secret: str) -> bool:
    """True when ``secret`` (digits, or an email local part) can still be read in ``text``."""
    if secret.isalpha():
        return secret in unicodedata.normalize("NFKC", urllib.parse.unquote(text)).lower()
    return secret.upper() in digits_of(text)


def test_enough_variants() -> None:
    assert len(MASKED) >= 80 and len(UNCHANGED) >= 30


@pytest.mark.parametrize("case", MASKED, ids=[c.text[:24] for c in MASKED])
def test_variant_is_masked(case: Case) -> None:
    out = mask_pii(case.text)
    if case.expected is not None:
        assert out == case.expected
    assert len(out) == len(case.text) and all(o == t or o == "*" for o, t in zip(out, case.text))
    assert out != case.text
    for secret in case.secrets:
        assert not leaked(out, secret), (secret, out)
    assert mask_pii(out) == out  # idempotent


@pytest.mark.parametrize("text", UNCHANGED)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_pii(text) == text


def test_every_masked_number_is_unreadable() -> None:
    """Whatever the exact expectation, none of the secrets survives in any digit form."""
    secrets = (ID, ID2, IDX, MOBILE, MOBILE2, CARD, CARD19, CARD_BAD, "075587654321", "01062345678")
    for case in MASKED:
        out = mask_pii(case.text)
        for secret in secrets:
            if not leaked(case.text, secret):
                continue
            assert not leaked(out, secret), (case.text, out)


def test_emails_lose_their_local_part() -> None:
    for case in MASKED:
        if re.search(r"zhangsan", case.text):
            assert "zhangsan" not in unicodedata.normalize("NFKC", mask_pii(case.text)).lower()
