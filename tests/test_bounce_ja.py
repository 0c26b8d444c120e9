"""Japanese bounces: Japanese-localized Exchange NDRs and the notices of Japanese ISPs and mobile
carriers, in ISO-2022-JP, Shift_JIS (code page 932) and UTF-8, as .eml files and as pasted into
Slack. What the user sees: recipient, codes, the server that answered, the refused IP, the cause
and the list behind it. Fixtures: tests/fixtures/ja (written by build.py there, so the legacy
encodings are real bytes, not an editor's UTF-8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.bounce import charsets, mime
from bot.bounce.classify import classify, normalize
from bot.bounce.diagnose import diagnose
from bot.bounce.model import Diagnosis, Failure
from bot.bounce.rules import default_rules
from bot.i18n import messages
from bot.render.blocktext import blocks_to_text
from bot.render.diagnosis import diagnosis_message

FIX = Path(__file__).parent / "fixtures" / "ja"


def one(data: bytes | str) -> Failure:
    result = diagnose(data)
    assert result.is_bounce and len(result.failures) == 1, result
    return result.failures[0]


def shown(result: Diagnosis) -> str:
    """The diagnosis as the command line prints it (and Slack shows it)."""
    message = diagnosis_message(messages(None), result, default_rules())
    return blocks_to_text(message.blocks, message.text)


# -- Exchange / Outlook in Japanese ---------------------------------------------------------------


def test_exchange_ja_spamhaus_block_with_delivery_status() -> None:
    data = (FIX / "exchange-ja-spamhaus.eml").read_bytes()
    f = one(data)
    assert (f.recipient, f.reply_code, f.status) == ("suzuki@example.com", "550", "5.7.1")
    assert f.remote_mta == "mx01.example.com"  # the server that answered, not the generating one
    assert (f.reason, f.blocklist, f.refused_ip) == ("blocked", "spamhaus-zen", "203.0.113.9")
    assert f.diagnostic.startswith("550 5.7.1 Service unavailable; Client host [203.0.113.9] blocked")
    text = shown(diagnose(data))
    assert "suzuki@example.com" in text and "`550 5.7.1`" in text and "mx01.example.com" in text
    assert "Spamhaus ZEN" in text and "`203.0.113.9`" in text and "blocked" in text


def test_exchange_ja_without_the_delivery_status_part() -> None:
    data = (FIX / "exchange-ja-spamhaus.eml").read_bytes()
    text_only = re.sub(rb"--_000_\w+\r\nContent-Type: message/delivery-status.*?(?=--_000_)", b"", data,
                       flags=re.S)
    assert b"Final-Recipient" not in text_only
    f = one(text_only)
    assert (f.recipient, f.reply_code, f.status, f.remote_mta) == ("suzuki@example.com", "550", "5.7.1",
                                                                   "mx01.example.com")
    assert (f.reason, f.blocklist, f.refused_ip) == ("blocked", "spamhaus-zen", "203.0.113.9")


def test_exchange_ja_local_mailbox_full_names_the_generating_server() -> None:
    f = one((FIX / "exchange-ja-local-full.eml").read_bytes())
    assert (f.recipient, f.reply_code, f.status) == ("nomura@corp.example.jp", "554", "5.2.2")
    assert f.remote_mta == "EXCH02.corp.example.jp"  # 「生成元サーバー:」: no other host is named
    assert f.reason == "mailboxfull" and f.refused_ip is None and f.blocklist is None


def test_exchange_ja_pasted_in_slack() -> None:
    # As Slack delivers it: & < > escaped, addresses turned into mailto links, chat text around.
    result = diagnose((FIX / "pasted-exchange-ja.txt").read_text(encoding="utf-8"))
    assert result.is_bounce and len(result.failures) == 1
    f = result.failures[0]
    assert (f.recipient, f.reply_code, f.status) == ("yamada@example.co.jp", "550", "5.1.1")
    assert f.diagnostic == ("550 5.1.1 <yamada@example.co.jp>: Recipient address rejected: User unknown "
                            "in virtual mailbox table")
    assert f.remote_mta == "mail01.example.jp" and f.reason == "userunknown"
    text = shown(result)
    assert "yamada@example.co.jp" in text and "`550 5.1.1`" in text and "userunknown" in text


def test_exchange_online_ja_pasted_banned_ip() -> None:
    result = diagnose((FIX / "pasted-exchange-online-ja.txt").read_text(encoding="utf-8"))
    f = result.failures[0]
    assert (f.recipient, f.reply_code, f.status) == ("kimura@example.com", "550", "5.7.606")
    assert f.remote_mta == "kimura-com.mail.protection.outlook.com"  # 「リモート サーバー:」
    assert (f.reason, f.provider, f.refused_ip) == ("blocked", "microsoft", "198.51.100.77")
    assert "sender.office.com" in (f.remedy or "")
    assert len(result.failures) == 1  # 「送信者アドレス:」 is the sender, not a second recipient
    assert "`198.51.100.77`" in shown(result)


# -- Japanese ISPs and mobile carriers ------------------------------------------------------------


def test_isp_notice_in_shift_jis_with_the_smtp_reply() -> None:
    data = (FIX / "isp-sjis-userunknown.eml").read_bytes()
    source = mime.read(data)
    assert "宛先不明" in source.text and "①" in source.text  # code page 932, not Latin-1 mojibake
    f = one(data)
    assert (f.recipient, f.reply_code, f.status) == ("nouser@example.jp", "550", "5.1.1")
    assert (f.remote_mta, f.remote_ip) == ("mx.example.jp", "198.51.100.25")  # 「送信先サーバー：」
    assert f.diagnostic == "550 5.1.1 <nouser@example.jp>... User unknown"  # the reply, not the wrapper
    assert f.reason == "userunknown"
    text = shown(diagnose(data))
    assert "nouser@example.jp" in text and "mx.example.jp [198.51.100.25]" in text


def test_carrier_notice_whose_only_reason_is_japanese_mailbox_full() -> None:
    data = (FIX / "carrier-ja-mailboxfull.eml").read_bytes()  # ISO-2022-JP in base64
    f = one(data)
    assert (f.recipient, f.reply_code, f.status) == ("hanako@example.ne.jp", None, None)
    assert f.reason == "mailboxfull"
    assert f.diagnostic == "相手のメールボックスの容量を超えているため、受け取ることができませんでした。"
    text = shown(diagnose(data))
    assert "hanako@example.ne.jp" in text and "相手のメールボックスの容量を超えている" in text
    assert "mailboxfull" in text


def test_carrier_notice_refused_by_the_recipients_own_setting() -> None:
    # Half-width katakana (「ﾒｰﾙ」) and full-width spaces, as older carrier gateways write them.
    f = one((FIX / "carrier-ja-refused.eml").read_bytes())
    assert f.recipient == "taro@example.ne.jp" and f.reply_code is None
    assert f.reason == "filtered"  # 受信拒否: the recipient's reception setting, not your IP
    assert f.diagnostic == "受信者の迷惑メール設定により受信拒否されました。"


def test_several_recipients_in_one_japanese_notice() -> None:
    pasted = ("以下の宛先へのメールは配信できませんでした。\n\n"
              "宛先: a@example.jp\n理由: 宛先不明\n応答: 550 5.1.1 <a@example.jp>... User unknown\n\n"
              "宛先： b@example.jp\n理由： メールボックスの容量を超えています\n"
              "応答： 552 5.2.2 <b@example.jp>... Mailbox full\n")
    got = [(f.recipient, f.reply_code, f.status, f.reason) for f in diagnose(pasted).failures]
    assert got == [("a@example.jp", "550", "5.1.1", "userunknown"),
                   ("b@example.jp", "552", "5.2.2", "mailboxfull")]


def test_the_servers_reply_outranks_the_notices_boilerplate() -> None:
    # The wrapper lists possible causes; the reply says what happened.
    pasted = ("次のあて先へのメッセージはエラーのため送信できませんでした。\n"
              "宛先不明、またはメールボックスの容量超過の可能性があります。\n\n"
              "宛先: c@example.jp\n"
              "応答: 550 5.7.1 Service unavailable; Client host [192.0.2.44] blocked using "
              "zen.spamhaus.org\n")
    f = one(pasted)
    assert (f.reason, f.blocklist, f.refused_ip) == ("blocked", "spamhaus-zen", "192.0.2.44")


def test_au_s_own_verdict_outranks_a_generic_user_unknown() -> None:
    pasted = ("次のあて先へのメッセージはエラーのため送信できませんでした。\n\n"
              "The user(s) account is disabled.\n\n"
              "<kenji@ezweb.ne.jp>: 550 user unknown (in reply to RCPT TO command)\n")
    f = one(pasted)
    assert (f.recipient, f.provider, f.reason, f.stage) == ("kenji@ezweb.ne.jp", "au-kddi", "suspend", "RCPT")


@pytest.mark.parametrize("text", [
    "田中さん、tanaka@example.com にメール送信できませんでした。明日また試します",
    "山田さんへのメールが宛先不明で戻ってきました yamada@example.co.jp",
    "メールが送信できませんでした",
])
def test_japanese_chat_about_a_failed_mail_is_not_a_bounce(text: str) -> None:
    assert not diagnose(text).is_bounce  # passive channels stay silent


# -- encodings and matching -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "subject"), [
    ("exchange-ja-spamhaus.eml", "配信不能: 見積書の送付について"),
    ("isp-sjis-userunknown.eml", "メール配信エラー（宛先不明）"),
    ("carrier-ja-mailboxfull.eml", "返送メール：配信できませんでした"),
    ("carrier-ja-refused.eml", "メール送信エラー"),
])
def test_encoded_word_subjects(name: str, subject: str) -> None:
    assert mime.read((FIX / name).read_bytes()).headers["subject"] == subject


def test_charsets_japanese_mail_really_uses() -> None:
    nec = b"\x1b$B-!$\"\x1b(B ok"  # ① (an NEC row-13 character) in ISO-2022-JP
    assert charsets.decode(nec, "iso-2022-jp") == "①あ ok"
    assert charsets.decode(nec, None) == "①あ ok"  # unlabelled escapes
    assert charsets.decode(nec, "us-ascii") == "①あ ok"  # wrongly labelled
    assert charsets.decode(b"\x1b(I1\x1b(B", "iso-2022-jp") == "ｱ"  # half-width katakana
    assert charsets.decode("①配信不能".encode("cp932"), "Shift_JIS") == "①配信不能"
    assert charsets.decode("①配信不能".encode("cp932"), "windows-31j") == "①配信不能"
    euc = "配信できませんでした".encode("euc_jp")
    assert charsets.decode(euc, "iso-2022-jp") == "配信できませんでした"  # au labels EUC-JP so
    assert charsets.decode(euc, None) == "配信できませんでした"
    assert charsets.decode(b"caf\xe9", None) == "café"


def test_matcher_folds_full_width_and_half_width_forms() -> None:
    assert normalize("ＩＰアドレス\u3000ﾒｰﾙ") == "ipアドレス メール"
    f = Failure(diagnostic="ﾒｰﾙﾎﾞｯｸｽがいっぱいです")
    classify(default_rules(), f)
    assert f.reason == "mailboxfull"
