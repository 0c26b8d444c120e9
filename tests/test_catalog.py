"""The catalog is data: the shipped set, user files, DQS keys and validation."""

from pathlib import Path

import pytest

from bot.dnsbl.catalog import load_catalog
from bot.errors import CatalogError

DEAD = ("sorbs.net", "cbl.abuseat.org", "ix.dnsbl.manitu.net", "anonmails.de", "senderscore.com",
        "spamcannibal.org", "wpbl.info", "dsbl.org", "nszones.com", "lashback.com", "ahbl.org")


def test_shipped_default_set() -> None:
    catalog = load_catalog()
    ip_zones = {bl.zone for bl in catalog if bl.kinds & {"ip4", "ip6"}}
    domain_zones = {bl.zone for bl in catalog if "domain" in bl.kinds}
    assert len(ip_zones) >= 30 and len(domain_zones) >= 8
    assert not [bl.zone for bl in catalog if any(bl.zone.endswith(d) for d in DEAD)]
    assert {bl.id for bl in catalog.unavailable} == {"spamhaus-authbl", "spamhaus-zrd"}
    dnswl = catalog.by_id("dnswl")
    assert dnswl.role == "allow"


def test_user_file_adds_replaces_and_removes(tmp_path: Path) -> None:
    extra = tmp_path / "isp.toml"
    extra.write_text('''
[[list]]
id = "isp-private"
name = "ISP private list"
zone = "bl.isp.example"
kinds = ["ip4"]
  [[list.codes]]
  code = "127.0.0.2"
  meaning = "our abuse desk listed it"

[[list]]
id = "spamcop"
name = "SpamCop (mirror)"
zone = "spamcop.mirror.isp.example"
kinds = ["ip4"]
  [[list.codes]]
  code = "127.0.0.2"
  meaning = "listed"

[[list]]
id = "barracuda"
enabled = false
''')
    catalog = load_catalog([extra])
    assert catalog.by_id("isp-private").zone == "bl.isp.example"
    assert catalog.by_id("spamcop").zone == "spamcop.mirror.isp.example"
    with pytest.raises(CatalogError):
        catalog.by_id("barracuda")
    only = load_catalog([extra], replace_defaults=True)
    assert [bl.id for bl in only] == ["isp-private", "spamcop"]


def test_dqs_key_goes_into_queries_only() -> None:
    key = "abcdefghijklmnopqrstuvwxyz"
    catalog = load_catalog(dqs_key=key)
    zen = catalog.by_id("spamhaus-zen")
    assert zen.query_zone == f"{key}.zen.dq.spamhaus.net"
    assert zen.zone == "zen.dq.spamhaus.net"
    assert catalog.by_id("spamhaus-authbl").zone == "authbl.dq.spamhaus.net"
    assert not catalog.unavailable


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[list]]\nid = "x"\nzone = "not a zone"\n[[list.codes]]\ncode = "127.0.0.2"', "zone"),
        ('[[list]]\nid = "x"\nzone = "a.test"\nkinds = ["ip5"]\n[[list.codes]]\ncode = "127.0.0.2"',
         "kinds"),
        ('[[list]]\nid = "x"\nzone = "a.test"', "codes"),
        ('[[list]]\nid = "x"\nzone = "a.test"\n[[list.codes]]\ncode = "banana"', "not an IPv4"),
        ('[[list]]\nid = "x"\nzone = "a.test"\ncolour = 1\n[[list.codes]]\ncode = "127.0.0.2"',
         "unknown field"),
        ("[[list]\n", "not valid TOML"),
    ],
)
def test_bad_catalog_files_say_what_is_wrong(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(CatalogError, match=message):
        load_catalog([path])
