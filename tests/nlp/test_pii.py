"""mask_pii: personal numbers are masked, everything else is left exactly as it was."""

from __future__ import annotations

import pytest

from nlp.pii import id_checksum_ok, luhn_ok, mask_pii


def make_id(body17: str) -> str:
    """A mainland ID number with a correct checksum for ``body17``."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]


def make_card(body: str) -> str:
    """A card number with a correct Luhn digit appended to ``body``."""
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


FW = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ID_A = make_id("11010119900307123")  # checksum digit
ID_X = "11010519491231002X"  # checksum X (the GB 11643 example)


def test_id_helpers() -> None:
    assert id_checksum_ok(ID_A) and id_checksum_ok(ID_X) and id_checksum_ok(ID_X.lower())
    assert not id_checksum_ok(ID_A[:-1] + str((int(ID_A[-1]) + 1) % 10))
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"举报人身份证号{ID_A}，请核实", f"举报人身份证号110101********{ID_A[-4:]}，请核实"),
        (f"身份证:{ID_X}。", "身份证:110105********002X。"),
        (f"身份证:{ID_X.lower()}", "身份证:110105********002x"),
        ("旧身份证号110101900307123", "旧身份证号110101*****7123"),
        (f"身份证 {ID_A[:6]} {ID_A[6:14]} {ID_A[14:]}", f"身份证 {ID_A[:6]} ******** {ID_A[14:]}"),
        (f"身份证{ID_A[:6]}-{ID_A[6:14]}-{ID_A[14:]}", f"身份证{ID_A[:6]}-********-{ID_A[14:]}"),
        ("电话13812345678", "电话138****5678"),
        ("手机：+86 13912345678 联系", "手机：+86 139****5678 联系"),
        ("手机：+8613912345678", "手机：+86139****5678"),
        ("电话 138 1234 5678。", "电话 138 **** 5678。"),
        ("电话 138-1234-5678。", "电话 138-****-5678。"),
        ("办公室010-12345678转123", "办公室010-****5678转123"),
        ("（0755）2345678", "（0755）***5678"),
        ("(021) 62345678", "(021) ****5678"),
        ("邮箱zhang.san@163.com。", "邮箱z********@163.com。"),
        ("a_b+tag@mail.example.org.cn", "a******@mail.example.org.cn"),
        ("电话１３８１２３４５６７８，２０２４年", "电话１３８****５６７８，２０２４年"),
        ("身份证" + ID_X.translate(FW), "身份证" + "110105********002X".translate(FW).replace("＊", "*")),
        ("卡号6222021234567890128", "卡号6222***********0128"),
        ("卡号 4111 1111 1111 1111 尾", "卡号 4111 **** **** 1111 尾"),
        ("卡号4111-1111-1111-1111", "卡号4111-****-****-1111"),
    ],
)
def test_masks(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2024年5月6日 20240506 1990年 2023-12-01 12:30:45",
        "（2023）京0105民初12345号判决书",
        "罚款1380000元，阅读量1300万次以上",
        "案号(2024)粤03刑终123号，涉案金额12345678.90元",
        "4111111111111112",  # fails Luhn: not a card
        "订单号 1234567890123456",  # fails Luhn
        "微博ID 1700000000000 时间戳",  # 13 digits
        "版本 1.2.3，端口 8080，邮编100010",
        "热线 400-123-4567 与 12345 政务热线",
        "99999999999999999999",  # 20 digits: nothing of ours
        "1101011990030",  # a truncated ID
        "",
    ],
)
def test_leaves_ordinary_numbers(text: str) -> None:
    assert mask_pii(text) == text


def test_id_with_invalid_date_is_not_an_id() -> None:
    number = make_id("11010119901332123")  # 13th month
    assert not mask_pii(number).startswith("110101****")


def test_mistyped_id_with_real_birth_date_is_masked() -> None:
    wrong = ID_A[:-1] + str((int(ID_A[-1]) + 1) % 10)
    if luhn_ok(wrong):  # would be masked as a card, still masked
        wrong = ID_A[:-1] + str((int(ID_A[-1]) + 2) % 10)
    assert mask_pii(wrong) == "110101********" + wrong[-4:]


def test_eighteen_digit_card_is_masked_as_card() -> None:
    card = make_card("62220212345678901")  # 18 digits, no valid birth date in it
    assert mask_pii(card) == card[:4] + "*" * 10 + card[-4:]


def test_many_in_one_text_and_idempotent() -> None:
    text = f"张某（{ID_A}，电话13812345678，邮箱zs@qq.com）称被民警殴打，银行卡{make_card('622202123456789012')}"
    once = mask_pii(text)
    assert ID_A not in once and "13812345678" not in once and "zs@qq.com" not in once
    assert "110101********" in once and "138****5678" in once and "z*@qq.com" in once
    assert mask_pii(once) == once and len(once) == len(text)


def test_digits_inside_longer_runs_are_not_taken_apart() -> None:
    text = "流水号813812345678912"  # a mobile number inside a longer number
    assert "*" not in mask_pii(text)


def test_length_kept_and_only_stars_introduced() -> None:
    import random

    rng = random.Random(42)
    alphabet = "0123456789０１２３ -－@.XxabZ民警年月日，+（）()"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        text += rng.choice(["", ID_A, "13812345678", "4111111111111111", "a.b@c.cn", "010-62345678"])
        out = mask_pii(text)
        assert len(out) == len(text)
        assert all(o == t or o == "*" for o, t in zip(out, text))
