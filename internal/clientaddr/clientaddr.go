// Package clientaddr turns a client's address into the key that rate limits count on.
package clientaddr

import "net/netip"

// ipv6Prefix is the block one IPv6 subscriber gets: ISPs hand out a /64 (or more) per
// customer, and a client can pick any of its 2^64 addresses, so counting single IPv6
// addresses would let one client sidestep every per-address limit.
const ipv6Prefix = 64

// Key is the rate-limit key of address ip: the address itself for IPv4 (including
// IPv4-mapped IPv6), its /64 network for IPv6. Anything unparsable is returned unchanged, so
// it still counts against itself.
func Key(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(ipv6Prefix)
	if err != nil {
		return ip
	}
	return p.String()
}
