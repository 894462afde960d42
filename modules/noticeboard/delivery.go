package noticeboard

import (
	"time"

	"github.com/epom-cz/epom/internal/calendar"
)

// LegalDates are the days the Administrative Procedure Code (správní řád, zák. č. 500/2004
// Sb.) derives from a notice's posting (vyvěšení), as days in Europe/Prague.
type LegalDates struct {
	// DeliveredOn is the day a document delivered by public notice (veřejná vyhláška) counts
	// as delivered (fikce doručení).
	DeliveredOn calendar.Date
	// DeliveredOnRestDay names why DeliveredOn is not a working day ("sobota", "neděle" or
	// the holiday), or is empty. It is shown, never used to move the day (see DeliveryDates).
	DeliveredOnRestDay string
	// EarliestTakeDown is the first day on which the notice may lawfully be taken down
	// (sejmutí); from its first minute.
	EarliestTakeDown calendar.Date
}

// DeliveryDates computes the legal dates of a notice posted at postedAt.
//
// § 25 odst. 2 správního řádu: a document delivered by public notice counts as delivered on
// the 15th day after it was posted on the official notice board. § 40 odst. 1 písm. a):
// a period counted in days begins on the day after the event, so the posting day is day 0
// and the delivery day is posting day + 15, whatever the hour of posting.
//
// The 15th day is NOT moved when it falls on a Saturday, Sunday or public holiday. § 40
// odst. 1 písm. c) moves the end of a lhůta — a period within which someone must or may
// act — to the next working day so that nobody loses a day for acting. The 15 days of § 25
// odst. 2 give nobody anything to do: they fix by statute the moment a legal fiction takes
// effect (fikce doručení). The Nejvyšší správní soud held exactly this for § 25 odst. 2 věta
// třetí: the purpose of § 40 odst. 1 písm. c) is to protect participants when they perform
// procedural acts, so its rule does not apply to the day a document delivered by public
// notice counts as delivered (rozsudek NSS č. j. 1 As 86/2009-47). The periods that start
// from the delivery (e.g. 15 days for an appeal, § 83 odst. 1) are lhůty and are moved at
// their end. Should the law or the case law change, calendar.LhutaEnd applied to DeliveredOn
// below is the whole change (the tests pin the current rule).
//
// Earliest take-down: the notice must hang for the 15 days up to and including the delivery
// day (the document has to be available on the board on the day the fiction takes effect),
// so it may be taken down from the start of day 16 after posting, the day after delivery.
func DeliveryDates(cal *calendar.Calendar, postedAt time.Time, prague *time.Location) LegalDates {
	posted := calendar.DateOf(postedAt, prague)
	delivered := posted.AddDays(15)
	out := LegalDates{DeliveredOn: delivered, EarliestTakeDown: delivered.AddDays(1)}
	switch wd := delivered.Weekday(); {
	case wd == time.Saturday:
		out.DeliveredOnRestDay = "sobota"
	case wd == time.Sunday:
		out.DeliveredOnRestDay = "neděle"
	default:
		out.DeliveredOnRestDay = cal.Holiday(delivered)
	}
	return out
}

// legalDates of n: from its real posting, else (scheduled) its planned posting, else none.
func legalDates(cal *calendar.Calendar, n Notice, prague *time.Location) (LegalDates, bool) {
	at := n.PostedAt
	if at == nil && (n.State == StateScheduled || n.State == StatePendingApproval || n.State == StateDraft) {
		at = n.PostingAt
	}
	if at == nil || cal == nil {
		return LegalDates{}, false
	}
	return DeliveryDates(cal, *at, prague), true
}

// EarlyTakeDown reports whether taking n down at now would be before its earliest lawful
// take-down day.
func EarlyTakeDown(cal *calendar.Calendar, n Notice, now time.Time, prague *time.Location) bool {
	ld, ok := legalDates(cal, n, prague)
	return ok && now.Before(ld.EarliestTakeDown.Start(prague))
}
