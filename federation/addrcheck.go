package federation

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrForbiddenAddress means an outgoing request would reach an address that
// federation must never touch (loopback, private, link-local, ...).
var ErrForbiddenAddress = errors.New("address is not public")

// CheckAddress refuses addresses that are not globally routable unicast:
// loopback, private (RFC 1918, fc00::/7), link-local (including the cloud
// metadata address 169.254.169.254), unspecified, multicast, CGNAT
// (100.64.0.0/10) and IPv4-mapped forms of any of these. allowPrivate (the
// development switch) lets everything through.
func CheckAddress(ip netip.Addr, allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	ip = ip.Unmap()
	switch {
	case !ip.IsValid(),
		ip.IsUnspecified(),
		ip.IsLoopback(),
		ip.IsPrivate(),
		ip.IsLinkLocalUnicast(),
		ip.IsLinkLocalMulticast(),
		ip.IsInterfaceLocalMulticast(),
		ip.IsMulticast(),
		cgnat.Contains(ip),
		ip.Is4() && ip.As4()[0] == 0,
		ip == broadcast:
		return fmt.Errorf("%s: %w", ip, ErrForbiddenAddress)
	}
	return nil
}

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	broadcast = netip.MustParseAddr("255.255.255.255")
)
