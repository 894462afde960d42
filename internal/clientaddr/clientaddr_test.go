package clientaddr

import "testing"

func TestKey(t *testing.T) {
	tests := []struct {
		name, ip, want string
	}{
		{"IPv4 as is", "192.0.2.7", "192.0.2.7"},
		{"IPv4-mapped IPv6 counts as IPv4", "::ffff:192.0.2.7", "192.0.2.7"},
		{"IPv6 grouped by /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"another address of the same /64", "2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"a neighbouring /64 is another key", "2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"zone dropped", "fe80::1%eth0", "fe80::/64"},
		{"loopback", "::1", "::/64"},
		{"unparsable kept", "not-an-ip", "not-an-ip"},
		{"empty kept", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Key(tt.ip); got != tt.want {
				t.Errorf("Key(%q) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
}
