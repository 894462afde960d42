package calendar

import (
	"testing"
	"time"
)

func TestHoliday(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		day  string
		want bool
	}{
		{"2026-01-01", true},
		{"2026-04-03", true},  // Velký pátek (Easter Sunday 2026-04-05)
		{"2026-04-06", true},  // Velikonoční pondělí
		{"2026-04-05", false}, // Easter Sunday itself is a Sunday, not a holiday of the list
		{"2015-04-03", false}, // Velký pátek only since 2016
		{"2016-03-25", true},
		{"2025-04-18", true}, {"2025-04-21", true},
		{"2024-03-29", true}, {"2024-04-01", true},
		{"2026-05-01", true}, {"2026-05-08", true}, {"2026-07-05", true}, {"2026-07-06", true},
		{"2026-09-28", true}, {"2026-10-28", true}, {"2026-11-17", true},
		{"2026-12-24", true}, {"2026-12-25", true}, {"2026-12-26", true},
		{"2026-12-23", false}, {"2026-12-31", false}, {"2026-11-18", false},
	} {
		d, err := ParseDate(tc.day)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Holiday(d) != ""; got != tc.want {
			t.Errorf("Holiday(%s) = %q, want holiday %v", tc.day, c.Holiday(d), tc.want)
		}
	}
}

func TestEaster(t *testing.T) {
	for y, want := range map[int]string{2016: "2016-03-27", 2019: "2019-04-21", 2024: "2024-03-31",
		2025: "2025-04-20", 2026: "2026-04-05", 2027: "2027-03-28", 2038: "2038-04-25"} {
		if got := easterSunday(y).String(); got != want {
			t.Errorf("Easter %d = %s, want %s", y, got, want)
		}
	}
}

func TestLhutaEnd(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"2026-11-20", "2026-11-20"}, // Friday, a working day
		{"2026-11-21", "2026-11-23"}, // Saturday → Monday
		{"2026-11-22", "2026-11-23"}, // Sunday → Monday
		{"2026-12-24", "2026-12-28"}, // Štědrý den (Thu) → 25, 26 holidays, 27 Sunday → Monday
		{"2026-04-03", "2026-04-07"}, // Velký pátek → Sat, Sun, Velikonoční pondělí → Tuesday
		{"2026-12-31", "2026-12-31"},
		{"2027-01-01", "2027-01-04"}, // Friday holiday → Monday
	} {
		d, _ := ParseDate(tc.in)
		if got := c.LhutaEnd(d).String(); got != tc.want {
			t.Errorf("LhutaEnd(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDateOf(t *testing.T) {
	prague, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC on 31 Dec is already 1 Jan in Prague.
	if got := DateOf(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), prague).String(); got != "2027-01-01" {
		t.Errorf("DateOf = %s", got)
	}
	if got := NewDate(2026, 12, 32).String(); got != "2027-01-01" {
		t.Errorf("NewDate = %s", got)
	}
}
