package garanti

import "strings"

// Status is a consent status as the product understands it, whatever
// vocabulary the bank used.
type Status string

// The consent statuses the product distinguishes.
const (
	StatusAwaitingAuthorisation Status = "awaiting_authorisation"
	StatusAuthorised            Status = "authorised"
	StatusActive                Status = "active"
	StatusExpired               Status = "expired"
	StatusRevoked               Status = "revoked"
	StatusRejected              Status = "rejected"
	// StatusUnknown is a value the mapping does not know; callers keep the
	// raw value next to it so nothing is lost.
	StatusUnknown Status = "unknown"
)

// MapStatus maps a raw consent status onto Status. It understands the
// bank's letters (B awaiting, Y authorised, K token issued, A active, S
// ended by expiry, I cancelled, R rejected) and the Berlin Group words
// (received, valid, rejected, revokedByPsu, expired, terminatedByTpp),
// case-insensitively. Berlin Group "valid" is a consent usable for data
// calls, which is what the bank's A means, so it maps to active.
func MapStatus(raw string) Status {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "b", "received":
		return StatusAwaitingAuthorisation
	case "y", "k", "authorised", "authorized":
		return StatusAuthorised
	case "a", "valid", "active":
		return StatusActive
	case "s", "expired":
		return StatusExpired
	case "i", "revokedbypsu", "terminatedbytpp", "revoked", "cancelled":
		return StatusRevoked
	case "r", "rejected":
		return StatusRejected
	}
	return StatusUnknown
}

// Usable reports whether data calls may be made under a consent in status s.
func (s Status) Usable() bool { return s == StatusActive }

// Final reports whether no further change can bring the consent back; the
// user has to give a new consent.
func (s Status) Final() bool {
	return s == StatusExpired || s == StatusRevoked || s == StatusRejected
}
