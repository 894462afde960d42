package keyring

import (
	"bytes"
	"testing"
)

func TestRing(t *testing.T) {
	a, b, c := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	msg := []byte("subscription id")
	underA := Ring{Current: a}.Sign(msg)
	tests := []struct {
		name   string
		ring   Ring
		tag    []byte
		wantOK bool
		wantID string
	}{
		{"same key", Ring{Current: a}, underA, true, ID(a)},
		{"old key still in the ring", Ring{Current: b, Previous: [][]byte{c, a}}, underA, true, ID(a)},
		{"truncated tag", Ring{Current: b, Previous: [][]byte{a}}, underA[:16], true, ID(a)},
		{"too short a tag", Ring{Current: a}, underA[:15], false, ""},
		{"old key dropped", Ring{Current: b}, underA, false, ""},
		{"empty ring", Ring{}, underA, false, ""},
		{"tampered", Ring{Current: a}, append([]byte{underA[0] ^ 1}, underA[1:]...), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := tt.ring.Verify(tt.tag, msg)
			if ok != tt.wantOK || id != tt.wantID {
				t.Fatalf("Verify = %q %v, want %q %v", id, ok, tt.wantID, tt.wantOK)
			}
		})
	}
	r := Ring{Current: b, Previous: [][]byte{nil, a}}
	if ids := r.IDs(); len(ids) != 2 || ids[0] != ID(b) || ids[1] != ID(a) || len(ids[0]) != 8 {
		t.Fatalf("IDs = %v", ids)
	}
	if sums := r.SumAll(msg); len(sums) != 2 || !bytes.Equal(sums[1], underA) {
		t.Fatal("SumAll does not hold the hash under the previous key")
	}
	if ID(a) == ID(b) || ID(nil) != "" {
		t.Fatal("fingerprints")
	}
}
