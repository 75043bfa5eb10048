"""Which addresses a URL import may connect to: public unicast only, by an explicit list.

The list does not lean on ``ipaddress.is_global``: before CPython 3.11.10 that
called 6to4 (2002::/16) and site-local (fec0::/10) addresses global, and its
tables change between patch levels. IPv6 must be global unicast (2000::/3) and
outside every special-purpose block below; IPv4-mapped addresses are judged as
the IPv4 address they carry. Sources: the IANA IPv4 and IPv6 Special-Purpose
Address Registries (RFC 6890 and successors).
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DENIED_IPV4 = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.31.196.0/24",  # AS112
        "192.52.193.0/24",  # AMT
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "192.175.48.0/24",  # direct delegation AS112
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, limited broadcast
    )
)
GLOBAL_UNICAST_IPV6 = ipaddress.IPv6Network("2000::/3")
DENIED_IPV6 = tuple(
    ipaddress.IPv6Network(block)
    for block in (
        "2001::/23",  # IETF protocol assignments: Teredo 2001::/32, ORCHID, benchmarking
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4: reaches the IPv4 address it embeds
        "2620:4f:8000::/48",  # direct delegation AS112
        "3fff::/20",  # documentation
        "64:ff9b::/96",  # NAT64 well-known prefix (outside 2000::/3, listed for clarity)
        "64:ff9b:1::/48",  # local-use NAT64
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)


def public_addresses_only(address: IPAddress) -> bool:
    """The production policy: True only for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:
            return public_addresses_only(mapped)
        if address not in GLOBAL_UNICAST_IPV6:
            return False
        return not any(address in block for block in DENIED_IPV6)
    return not any(address in block for block in DENIED_IPV4)
