package noticeboard

import (
	"time"

	"github.com/google/uuid"
)

// State is where a notice is in its life: draft → (pending_approval →) scheduled → posted
// (vyvěšeno) → archived (sejmuto, taken down).
type State string

// The states of a notice.
const (
	StateDraft           State = "draft"
	StatePendingApproval State = "pending_approval"
	StateScheduled       State = "scheduled"
	StatePosted          State = "posted"
	StateArchived        State = "archived"
)

// ValidState reports whether s is a state.
func ValidState(s string) bool {
	switch State(s) {
	case StateDraft, StatePendingApproval, StateScheduled, StatePosted, StateArchived:
		return true
	}
	return false
}

// Category is the agenda a notice belongs to; the codes are stable (they go into URLs, open
// data and subscriptions), the names may be reworded.
type Category struct {
	Code string
	CS   string
	EN   string
}

// Categories are the board's fixed categories, in display order.
func Categories() []Category {
	return []Category{
		{"vyhlasky", "Vyhlášky a nařízení", "Decrees and regulations"},
		{"rozpocet", "Rozpočet a finance", "Budget and finance"},
		{"uzemni-plan", "Územní plán", "Land-use plan"},
		{"zakazky", "Výběrová řízení a zakázky", "Tenders and public contracts"},
		{"volby", "Volby", "Elections"},
		{"jine-urady", "Oznámení jiných úřadů", "Notices of other authorities"},
		{"ostatni", "Ostatní", "Other"},
	}
}

// CategoryByCode finds a category.
func CategoryByCode(code string) (Category, bool) {
	for _, c := range Categories() {
		if c.Code == code {
			return c, true
		}
	}
	return Category{}, false
}

// Origin says who issued the notice: the municipality's own office, or another body (a
// court, the tax office, a neighbouring municipality) that asked it to post.
const (
	OriginOwn   = "own"
	OriginOther = "other"
)

// Notice is one notice as the clerk sees it.
type Notice struct {
	ID              uuid.UUID
	State           State
	Title           string
	Body            string
	Category        string
	Origin          string
	OriginName      string
	ReferenceNumber string // číslo jednací
	FileMark        string // spisová značka
	PostingAt       *time.Time
	RelevantUntil   *time.Time // nil: until further notice (do odvolání)
	PostedAt        *time.Time
	TakenDownAt     *time.Time
	TakeDownReason  string
	Revision        int
	AuthorID        uuid.UUID
	ApprovedBy      *uuid.UUID
	ApprovedAt      *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Attachments     []Attachment
}

// Attachment is a document of a notice; its content is a kernel file with the same id.
type Attachment struct {
	ID          uuid.UUID `json:"id"`
	NoticeID    uuid.UUID `json:"-"`
	Name        string    `json:"name"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	SHA256      []byte    `json:"sha256"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Revision is one version of a posted notice, as it hung on the board. Revisions are never
// changed.
type Revision struct {
	NoticeID        uuid.UUID
	Revision        int
	Title           string
	Body            string
	Category        string
	Origin          string
	OriginName      string
	ReferenceNumber string
	FileMark        string
	RelevantUntil   *time.Time
	Attachments     []Attachment
	Note            string
	CreatedAt       time.Time
	CreatedBy       *uuid.UUID
}

// Settings are the board's per-tenant settings.
type Settings struct {
	ApprovalRequired bool
	UpdatedAt        *time.Time
}

// Filter selects notices for the clerk's list.
type Filter struct {
	State    string
	Category string
	// From and To bound the notice's date (posted, else planned posting, else created).
	From, To *time.Time
	Query    string // words that must all occur (see searchWhere)
	Limit    int
	Offset   int
}
