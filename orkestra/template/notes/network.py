"""Network notes: ``cidrContains CIDR IP``, ``ipValid IP``, ``ipIsPrivate IP``."""

from __future__ import annotations

import ipaddress

from orkestra.template.functions import Func, P, func


@func("cidrContains", P.STR, P.STR)
def cidr_contains(cidr: str, ip: str) -> bool:
    return ipaddress.ip_address(ip.strip()) in ipaddress.ip_network(cidr.strip(), strict=False)


@func("ipValid", P.STR)
def ip_valid(ip: str) -> bool:
    try:
        ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    return True


@func("ipIsPrivate", P.STR)
def ip_is_private(ip: str) -> bool:
    return ipaddress.ip_address(ip.strip()).is_private


NOTES: tuple[Func, ...] = (cidr_contains, ip_valid, ip_is_private)
