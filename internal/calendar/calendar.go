// Package calendar knows the Czech days of rest (dny pracovního klidu) and computes the
// dates that Czech administrative law derives from them.
package calendar

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"
)

//go:embed cz_public_holiday_rules.csv
var holidayRules string

// rule is one row of cz_public_holiday_rules.csv: a fixed day of the year or an offset from
// Easter Sunday, valid from (and until) a date.
type rule struct {
	name          string
	easter        bool
	month, day    int
	easterOffset  int
	validFrom     Date
	validUntil    Date // zero: open-ended
	hasValidUntil bool
}

// Date is a calendar day without time or zone (a day in Prague when it comes from a time).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the calendar day of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// NewDate normalises y-m-d (so 2026-12-32 is 2027-01-01).
func NewDate(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 12, 0, 0, 0, time.UTC), time.UTC)
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, err
	}
	return DateOf(t, time.UTC), nil
}

// AddDays is d moved by n days.
func (d Date) AddDays(n int) Date { return NewDate(d.Year, d.Month, d.Day+n) }

// Weekday of d.
func (d Date) Weekday() time.Weekday { return d.Start(time.UTC).Weekday() }

// Start is the first instant of d in loc.
func (d Date) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Before reports whether d is an earlier day than o.
func (d Date) Before(o Date) bool { return d.Start(time.UTC).Before(o.Start(time.UTC)) }

// String is YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Calendar answers which days are days of rest.
type Calendar struct {
	rules []rule
}

// New returns the calendar of the Czech Republic from the embedded holiday rules.
func New() (*Calendar, error) {
	rows, err := csv.NewReader(strings.NewReader(holidayRules)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("calendar: holiday rules: %w", err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("calendar: holiday rules are empty")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, need := range []string{"nazev", "pravidlo", "mesic", "den", "posun_od_velikonocni_nedele", "platnost_od", "platnost_do"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("calendar: holiday rules lack column %q", need)
		}
	}
	c := &Calendar{}
	for n, row := range rows[1:] {
		r := rule{name: row[col["nazev"]]}
		bad := func(err error) error { return fmt.Errorf("calendar: holiday rule %d (%s): %w", n+1, r.name, err) }
		if r.validFrom, err = ParseDate(row[col["platnost_od"]]); err != nil {
			return nil, bad(err)
		}
		if s := row[col["platnost_do"]]; s != "" {
			if r.validUntil, err = ParseDate(s); err != nil {
				return nil, bad(err)
			}
			r.hasValidUntil = true
		}
		switch row[col["pravidlo"]] {
		case "fixed":
			m, err1 := strconv.Atoi(row[col["mesic"]])
			d, err2 := strconv.Atoi(row[col["den"]])
			if err1 != nil || err2 != nil {
				return nil, bad(fmt.Errorf("month/day %q/%q", row[col["mesic"]], row[col["den"]]))
			}
			r.month, r.day = m, d
		case "easter_offset":
			o, err := strconv.Atoi(row[col["posun_od_velikonocni_nedele"]])
			if err != nil {
				return nil, bad(err)
			}
			r.easter, r.easterOffset = true, o
		default:
			return nil, bad(fmt.Errorf("unknown rule %q", row[col["pravidlo"]]))
		}
		c.rules = append(c.rules, r)
	}
	return c, nil
}

// easterSunday is the Gregorian Easter Sunday of year y (the anonymous Gregorian algorithm,
// "Meeus/Jones/Butcher").
func easterSunday(y int) Date {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date{y, time.Month(month), day}
}

// Holiday returns the name of the public holiday on d (státní or ostatní svátek), or "".
func (c *Calendar) Holiday(d Date) string {
	easter := easterSunday(d.Year)
	for _, r := range c.rules {
		if d.Before(r.validFrom) || (r.hasValidUntil && r.validUntil.Before(d)) {
			continue
		}
		if r.easter {
			if easter.AddDays(r.easterOffset) == d {
				return r.name
			}
		} else if d.Month == time.Month(r.month) && d.Day == r.day {
			return r.name
		}
	}
	return ""
}

// WorkingDay reports whether d is a working day: not a Saturday, Sunday or public holiday
// (§ 3 zák. č. 245/2000 Sb.: holidays are dny pracovního klidu).
func (c *Calendar) WorkingDay(d Date) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return c.Holiday(d) == ""
}

// LhutaEnd is the last day of a lhůta (a period) that nominally ends on d, under § 40
// odst. 1 písm. c) zák. č. 500/2004 Sb., správní řád: if it falls on a Saturday, Sunday or
// public holiday, the last day is the next working day.
func (c *Calendar) LhutaEnd(d Date) Date {
	for !c.WorkingDay(d) {
		d = d.AddDays(1)
	}
	return d
}
