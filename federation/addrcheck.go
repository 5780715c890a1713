package federation

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrForbiddenAddress means an outgoing request would reach an address that
// federation must never touch (loopback, private, link-local, ...).
var ErrForbiddenAddress = errors.New("address is not public")

// CheckAddress refuses every address that is not globally reachable
// unicast, following IANA's IPv4 and IPv6 Special-Purpose Address
// Registries: loopback, private (RFC 1918, fc00::/7), link-local (including
// the metadata address 169.254.169.254), unspecified, multicast, broadcast,
// shared (100.64.0.0/10), benchmarking (198.18.0.0/15, 2001:2::/48),
// documentation, IETF protocol assignments (192.0.0.0/24, 2001::/23, which
// holds Teredo 2001::/32), reserved (240.0.0.0/4), the deprecated 6to4
// relay and site-local ranges, discard-only 100::/64, and all of IPv6
// outside 2000::/3. Addresses that carry an IPv4 address inside (IPv4-mapped
// ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the IPv4
// address they carry; the local-use NAT64 prefix 64:ff9b:1::/48 is refused.
// allowPrivate (the development switch) lets everything through.
func CheckAddress(ip netip.Addr, allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	if !ip.IsValid() {
		return fmt.Errorf("%s: %w", ip, ErrForbiddenAddress)
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if v4, ok := embeddedIPv4(ip); ok {
			if err := CheckAddress(v4, false); err != nil {
				return fmt.Errorf("%s carries %w", ip, err)
			}
			return nil
		}
	}
	if !globalUnicast(ip) {
		return fmt.Errorf("%s: %w", ip, ErrForbiddenAddress)
	}
	return nil
}

func globalUnicast(ip netip.Addr) bool {
	if ip.Is6() && !globalIPv6.Contains(ip) {
		return false
	}
	if ip.IsMulticast() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range notGlobal {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// embeddedIPv4 returns the IPv4 address carried by a NAT64 (64:ff9b::/96,
// the last 32 bits) or 6to4 (2002::/16, bits 16 to 48) address.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

var (
	globalIPv6 = netip.MustParsePrefix("2000::/3")
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	// notGlobal lists the special-purpose blocks (IANA registries, May
	// 2025) that are not globally reachable and that the Is* methods above
	// do not cover. IPv6 blocks outside 2000::/3 (100::/64, fec0::/10,
	// 64:ff9b:1::/48, 5f00::/16, ::/96) are already refused by that test
	// and are listed for the reader.
	notGlobal = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),       // this network
		netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
		netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
		netip.MustParsePrefix("192.0.2.0/24"),    // documentation TEST-NET-1
		netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast
		netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
		netip.MustParsePrefix("198.51.100.0/24"), // documentation TEST-NET-2
		netip.MustParsePrefix("203.0.113.0/24"),  // documentation TEST-NET-3
		netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
		netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments: Teredo, benchmarking, ORCHID
		netip.MustParsePrefix("2001:db8::/32"),   // documentation
		netip.MustParsePrefix("3fff::/20"),       // documentation
		netip.MustParsePrefix("100::/64"),        // discard-only
		netip.MustParsePrefix("100:0:0:1::/64"),  // dummy prefix
		netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
		netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
		netip.MustParsePrefix("5f00::/16"),       // SRv6 SIDs
	}
)
