"""Bytes of a bounce part (or header word) to text, Japanese legacy charsets included.

Why not just `bytes.decode(charset)`: Japanese mail rarely matches its label. "Shift_JIS" is
nearly always Windows code page 932 (NEC and IBM extensions such as ① or ㈱, which Python's strict
shift_jis refuses), "ISO-2022-JP" carries the same extensions in its JIS rows, some MTAs send
ISO-2022-JP under "us-ascii" or no label at all (7-bit escape sequences that "decode" as ASCII
garbage), au labels EUC-JP bytes "ISO-2022-JP", and labels such as "windows-31j" or "x-sjis"
are unknown to Python. A wrong guess
used to fall through to Latin-1 and turn the whole part into mojibake.
"""

from __future__ import annotations

import re

_CP932 = "cp932"
_ALIASES = {
    "shift_jis": _CP932, "shift-jis": _CP932, "sjis": _CP932, "x-sjis": _CP932, "s-jis": _CP932,
    "windows-31j": _CP932, "ms932": _CP932, "ms_kanji": _CP932, "cp932": _CP932, "x-ms-cp932": _CP932,
    "euc-jp": "euc_jp", "x-euc-jp": "euc_jp", "eucjp": "euc_jp", "cseucpkdfmtjapanese": "euc_jp",
    "ks_c_5601-1987": "cp949", "gb2312": "gb18030", "gbk": "gb18030",
}
_ISO2022JP = frozenset({"iso-2022-jp", "csiso2022jp", "iso-2022-jp-1", "iso-2022-jp-2", "iso-2022-jp-3",
                        "iso-2022-jp-ms", "cp50220", "cp50221", "cp50222", "iso2022_jp", "jis"})
_ESCAPE = re.compile(rb"\x1b(?:\$[@B]|\$\(D|\([BJI])")
_MODES = {b"\x1b$@": "jis", b"\x1b$B": "jis", b"\x1b$(D": "jis0212", b"\x1b(I": "kana"}
_GETA = "\u3013".encode(_CP932)  # 〓
_JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")


def _iso2022jp(data: bytes) -> str:
    """ISO-2022-JP through code page 932: every JIS X 0208 pair (the NEC rows too) is moved to
    its Shift_JIS position, half-width katakana (ESC ( I, or SO/SI) to its single byte. Python's
    own iso2022_jp codecs stop at the first NEC character; this never raises."""
    out = bytearray()
    mode = "ascii"
    pos = 0
    for m in _ESCAPE.finditer(data):
        out += _convert(data[pos:m.start()], mode)
        mode = _MODES.get(m.group(0), "ascii")
        pos = m.end()
    out += _convert(data[pos:], mode)
    return out.decode(_CP932, "replace")


def _convert(chunk: bytes, mode: str) -> bytes:
    if mode == "ascii":
        if b"\x0e" not in chunk:
            return chunk
        # SO ... SI: half-width katakana inside an ASCII run (a variant some gateways write).
        parts = re.split(rb"\x0e([\x21-\x5f]*)\x0f?", chunk)
        return b"".join(p if i % 2 == 0 else bytes(c + 0x80 for c in p) for i, p in enumerate(parts))
    if mode == "kana":
        return bytes(c + 0x80 if 0x21 <= c <= 0x5F else c for c in chunk)
    out = bytearray()
    i = 0
    while i < len(chunk):
        c1 = chunk[i]
        if c1 < 0x21 or i + 1 == len(chunk):  # a line break or space a broken mailer left in JIS mode
            out.append(c1)
            i += 1
            continue
        c2 = chunk[i + 1]
        i += 2
        if mode == "jis0212" or not (0x21 <= c1 <= 0x7E and 0x21 <= c2 <= 0x7E):
            out += _GETA  # the mark Japanese mailers print for a character they cannot show
            continue
        s1 = ((c1 + 1) >> 1) + (0x70 if c1 <= 0x5E else 0xB0)
        s2 = c2 + (0x1F if c2 <= 0x5F else 0x20) if c1 & 1 else c2 + 0x7E
        out += bytes((s1, s2))
    return bytes(out)


def _best_japanese(data: bytes) -> str | None:
    """Unlabelled 8-bit bytes that are not UTF-8: EUC-JP or code page 932, whichever reads as
    more Japanese (Shift_JIS bytes never decode as EUC-JP; EUC-JP bytes can pass as half-width
    katakana in cp932, which is why the count decides)."""
    candidates = []
    for codec in ("euc_jp", _CP932):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        candidates.append((len(_JAPANESE.findall(text)), text))
    return max(candidates, key=lambda c: c[0])[1] if candidates else None


def decode(data: bytes, charset: str | None) -> str:
    """The text of `data`, labelled `charset` (or not); never raises."""
    label = (charset or "").strip().strip('"').lower()
    if b"\x1b" in data and _ESCAPE.search(data):
        return _iso2022jp(data)
    # "ISO-2022-JP" over 8-bit bytes is a wrong label (au sends EUC-JP so): guess below instead.
    codec = "ascii" if label in _ISO2022JP else _ALIASES.get(label, label)
    for name in (codec, "utf-8"):
        if not name:
            continue
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    if (text := _best_japanese(data)) is not None:
        return text
    return data.decode("latin-1")
