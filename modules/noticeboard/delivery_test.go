package noticeboard_test

import (
	"testing"
	"time"

	"github.com/epom-cz/epom/internal/calendar"
	"github.com/epom-cz/epom/modules/noticeboard"
)

func TestDeliveryDates(t *testing.T) {
	cal, err := calendar.New()
	if err != nil {
		t.Fatal(err)
	}
	prague, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, prague)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name                string
		posted              time.Time
		delivered, takeDown string
		restDay             string
	}{
		{"15th day 17 November (holiday), not moved", at("2026-11-02 09:00"), "2026-11-17", "2026-11-18", "Den boje za svobodu a demokracii a Mezinárodní den studentstva"},
		{"plain Wednesday", at("2026-11-04 10:00"), "2026-11-19", "2026-11-20", ""},
		{"posted late in the evening counts the same day", at("2026-11-04 23:59"), "2026-11-19", "2026-11-20", ""},
		{"posted just after midnight (UTC still the day before)", at("2026-11-05 00:30"), "2026-11-20", "2026-11-21", ""},
		{"Friday: 15th day is a Saturday, not moved", at("2026-11-06 14:00"), "2026-11-21", "2026-11-22", "sobota"},
		{"Saturday posting: 15th day a Sunday, not moved", at("2026-11-07 08:00"), "2026-11-22", "2026-11-23", "neděle"},
		{"before Christmas: 15th day Štědrý den, not moved", at("2026-12-09 10:00"), "2026-12-24", "2026-12-25", "Štědrý den"},
		{"over Christmas and New Year", at("2026-12-17 10:00"), "2027-01-01", "2027-01-02", "Nový rok"},
		{"Easter: 15th day Velký pátek 2026, not moved", at("2026-03-19 10:00"), "2026-04-03", "2026-04-04", "Velký pátek"},
		{"Easter: 15th day Velikonoční pondělí 2026", at("2026-03-22 10:00"), "2026-04-06", "2026-04-07", "Velikonoční pondělí"},
		{"Easter 2025: Velký pátek", at("2025-04-03 10:00"), "2025-04-18", "2025-04-19", "Velký pátek"},
		{"across the switch to summer time", at("2026-03-20 12:00"), "2026-04-04", "2026-04-05", "sobota"},
		{"across the end of February in a leap year", at("2028-02-20 12:00"), "2028-03-06", "2028-03-07", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := noticeboard.DeliveryDates(cal, tc.posted.UTC(), prague)
			if got.DeliveredOn.String() != tc.delivered || got.EarliestTakeDown.String() != tc.takeDown {
				t.Errorf("posted %s: delivered %s, take-down %s; want %s, %s", tc.posted, got.DeliveredOn,
					got.EarliestTakeDown, tc.delivered, tc.takeDown)
			}
			if got.DeliveredOnRestDay != tc.restDay {
				t.Errorf("rest day %q, want %q", got.DeliveredOnRestDay, tc.restDay)
			}
			// The rule moving the end of a lhůta would have moved a rest day: the fixed day
			// of the fiction is a deliberate choice, not an accident of the data.
			if tc.restDay != "" && cal.LhutaEnd(got.DeliveredOn) == got.DeliveredOn {
				t.Errorf("%s is a rest day but LhutaEnd does not move it", got.DeliveredOn)
			}
		})
	}
}

func TestEarlyTakeDown(t *testing.T) {
	cal, _ := calendar.New()
	prague, _ := time.LoadLocation("Europe/Prague")
	posted := time.Date(2026, 11, 4, 10, 0, 0, 0, prague)
	n := noticeboard.Notice{State: noticeboard.StatePosted, PostedAt: &posted}
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2026, 11, 5, 10, 0, 0, 0, prague), true},
		{time.Date(2026, 11, 19, 23, 59, 0, 0, prague), true}, // the delivery day itself
		{time.Date(2026, 11, 20, 0, 0, 0, 0, prague), false},  // day 16 from its first minute
		{time.Date(2026, 12, 1, 0, 0, 0, 0, prague), false},
	} {
		if got := noticeboard.EarlyTakeDown(cal, n, tc.now, prague); got != tc.want {
			t.Errorf("EarlyTakeDown at %s = %v, want %v", tc.now, got, tc.want)
		}
	}
	if noticeboard.EarlyTakeDown(cal, noticeboard.Notice{State: noticeboard.StateDraft}, posted, prague) {
		t.Error("a notice never posted has no earliest take-down")
	}
}
