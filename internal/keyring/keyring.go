// Package keyring holds the deployment's secret key (EPOM_SECRET_KEY) together with the keys
// it replaced (EPOM_SECRET_KEY_PREVIOUS), so the key can be rotated: new MACs and ciphertexts
// use the current key, while those made under an earlier key are still accepted until the
// operator drops it from the ring. Keys are named by a short fingerprint, never printed.
package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// KeySize is the length of every key of the ring (AES-256, HMAC-SHA-256).
const KeySize = 32

// minTag is the shortest MAC Verify accepts, so a truncated tag cannot be guessed.
const minTag = 16

// Ring is the current key and the earlier ones still accepted, newest first.
type Ring struct {
	Current  []byte
	Previous [][]byte
}

// Keys returns the current key and then the previous ones, leaving out empty entries.
func (r Ring) Keys() [][]byte {
	out := make([][]byte, 0, 1+len(r.Previous))
	if len(r.Current) > 0 {
		out = append(out, r.Current)
	}
	for _, k := range r.Previous {
		if len(k) > 0 {
			out = append(out, k)
		}
	}
	return out
}

// Ready tells whether the ring has a usable current key.
func (r Ring) Ready() bool { return len(r.Current) == KeySize }

// ID is the fingerprint of key: the first 8 hex digits of its SHA-256. It tells which key
// made a stored value without revealing anything usable about the key.
func ID(key []byte) string {
	if len(key) == 0 {
		return ""
	}
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// CurrentID is the fingerprint of the current key ("" without one).
func (r Ring) CurrentID() string { return ID(r.Current) }

// IDs are the fingerprints of the ring's keys, current first.
func (r Ring) IDs() []string {
	keys := r.Keys()
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = ID(k)
	}
	return out
}

// Sum is HMAC-SHA-256 under key of the concatenated parts; callers frame the parts.
func Sum(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// Sign is Sum under the current key.
func (r Ring) Sign(parts ...[]byte) []byte { return Sum(r.Current, parts...) }

// SumAll is Sum under every key of the ring, current first: for looking up a stored keyed
// hash that may have been made under any of them.
func (r Ring) SumAll(parts ...[]byte) [][]byte {
	keys := r.Keys()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = Sum(k, parts...)
	}
	return out
}

// Verify tells whether tag is the HMAC of parts (or its prefix of at least 16 bytes) under
// any key of the ring, and the fingerprint of that key. Every key is tried, so the time taken
// does not tell which one matched.
func (r Ring) Verify(tag []byte, parts ...[]byte) (string, bool) {
	if len(tag) < minTag || len(tag) > sha256.Size {
		return "", false
	}
	id, ok := "", false
	for _, k := range r.Keys() {
		if subtle.ConstantTimeCompare(tag, Sum(k, parts...)[:len(tag)]) == 1 && !ok {
			id, ok = ID(k), true
		}
	}
	return id, ok
}
