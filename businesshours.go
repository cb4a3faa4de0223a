package switchboard

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Weekdays are the keys of BusinessHours.Weekly, in calendar order starting on Sunday (time.Weekday).
var Weekdays = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// Interval is an opening interval in local wall-clock time, "HH:MM" to "HH:MM". An End at or before
// Start runs overnight into the next day; End "24:00" is midnight at the end of the day.
type Interval struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// DateOverride replaces the weekly hours on one local date: a holiday (Closed) or special hours.
type DateOverride struct {
	Date      string     `json:"date"` // YYYY-MM-DD in the schedule's time zone
	Closed    bool       `json:"closed"`
	Intervals []Interval `json:"intervals"`
	Note      string     `json:"note,omitempty"`
}

// BusinessHours is a channel's weekly opening schedule in an IANA time zone, with date overrides and
// the message sent to customers who write while the business is closed.
type BusinessHours struct {
	Enabled     bool                  `json:"enabled"`
	Timezone    string                `json:"timezone"`
	AwayMessage string                `json:"away_message"`
	Weekly      map[string][]Interval `json:"weekly"`
	Overrides   []DateOverride        `json:"overrides"`
	// AwayWhileAI also sends the away message while the AI agent owns the conversation.
	AwayWhileAI bool `json:"away_while_ai"`
}

// parseClock turns "HH:MM" into minutes after midnight; "24:00" is allowed as an end.
func parseClock(s string, allow24 bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || m < 0 || m > 59 || h < 0 {
		return 0, false
	}
	if h == 24 && m == 0 && allow24 {
		return 24 * 60, true
	}
	if h > 23 {
		return 0, false
	}
	return h*60 + m, true
}

func validateIntervals(p *Problems, field string, ivs []Interval) {
	for i, iv := range ivs {
		f := field + "." + strconv.Itoa(i)
		s, ok1 := parseClock(iv.Start, false)
		e, ok2 := parseClock(iv.End, true)
		p.Check(ok1, f+".start", "Use HH:MM, e.g. 09:00.")
		p.Check(ok2, f+".end", "Use HH:MM, e.g. 17:30 (24:00 for midnight).")
		if ok1 && ok2 {
			p.Check(s != e, f+".end", "End must differ from start.")
		}
	}
}

// Validate checks the schedule: a loadable time zone, well-formed intervals, known weekdays, unique
// valid override dates and, when enabled, an away message.
func (b *BusinessHours) Validate() error {
	var p Problems
	if _, err := time.LoadLocation(b.Timezone); err != nil || b.Timezone == "" {
		p.Add("timezone", "Use an IANA time zone such as Europe/Paris.")
	}
	p.Check(!b.Enabled || strings.TrimSpace(b.AwayMessage) != "", "away_message", "Away message is required when business hours are on.")
	p.Check(utf8.RuneCountInString(b.AwayMessage) <= MaxTextLength, "away_message", "Away message must be at most 4096 characters.")
	for day, ivs := range b.Weekly {
		known := false
		for _, d := range Weekdays {
			known = known || d == day
		}
		if !known {
			p.Add("weekly."+day, "Unknown weekday; use monday … sunday.")
			continue
		}
		validateIntervals(&p, "weekly."+day, ivs)
	}
	dates := map[string]bool{}
	for i, o := range b.Overrides {
		f := "overrides." + strconv.Itoa(i)
		if _, err := time.Parse(time.DateOnly, o.Date); err != nil {
			p.Add(f+".date", "Use YYYY-MM-DD.")
		}
		p.Check(!dates[o.Date], f+".date", "This date already has an override.")
		dates[o.Date] = true
		p.Check(o.Closed || len(o.Intervals) > 0, f+".intervals", "Give opening intervals or mark the day closed.")
		validateIntervals(&p, f+".intervals", o.Intervals)
	}
	return p.Err()
}

func (b *BusinessHours) location() *time.Location {
	if loc, err := time.LoadLocation(b.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// span is one opening interval resolved to absolute times.
type span struct{ start, end time.Time }

// spansOn returns the opening spans that start on the local date y-m-d, in order.
func (b *BusinessHours) spansOn(y int, m time.Month, d int, loc *time.Location) []span {
	date := time.Date(y, m, d, 0, 0, 0, 0, loc).Format(time.DateOnly)
	ivs := b.Weekly[Weekdays[time.Date(y, m, d, 12, 0, 0, 0, loc).Weekday()]]
	for _, o := range b.Overrides {
		if o.Date == date {
			if o.Closed {
				return nil
			}
			ivs = o.Intervals
		}
	}
	out := make([]span, 0, len(ivs))
	for _, iv := range ivs {
		s, ok1 := parseClock(iv.Start, false)
		e, ok2 := parseClock(iv.End, true)
		if !ok1 || !ok2 || s == e {
			continue
		}
		st := time.Date(y, m, d, s/60, s%60, 0, 0, loc)
		var en time.Time
		if e > s {
			en = time.Date(y, m, d, e/60, e%60, 0, 0, loc)
		} else {
			en = time.Date(y, m, d+1, e/60, e%60, 0, 0, loc)
		}
		if en.After(st) {
			out = append(out, span{st, en})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// IsOpen reports whether the business is open at t. A disabled schedule is always open.
func (b *BusinessHours) IsOpen(t time.Time) bool {
	if !b.Enabled {
		return true
	}
	loc := b.location()
	lt := t.In(loc)
	for back := 1; back >= 0; back-- {
		for _, s := range b.spansOn(lt.Year(), lt.Month(), lt.Day()-back, loc) {
			if !t.Before(s.start) && t.Before(s.end) {
				return true
			}
		}
	}
	return false
}

// searchDays bounds how far the schedule is searched for the next opening or the last closing.
const searchDays = 400

// NextOpening returns the first moment at or after t when the business is open, and false when it
// never opens within a year (or the schedule is disabled, when it returns t, true).
func (b *BusinessHours) NextOpening(t time.Time) (time.Time, bool) {
	if !b.Enabled || b.IsOpen(t) {
		return t, true
	}
	loc := b.location()
	lt := t.In(loc)
	for day := 0; day < searchDays; day++ {
		for _, s := range b.spansOn(lt.Year(), lt.Month(), lt.Day()+day, loc) {
			if s.start.After(t) {
				return s.start.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// ClosedSince returns when the closed period containing t began: the end of the last opening span
// before t. It identifies a closed period, so an away message is sent at most once per period. When
// the business is open at t, or never was open within the search range, ok is false.
func (b *BusinessHours) ClosedSince(t time.Time) (time.Time, bool) {
	if !b.Enabled || b.IsOpen(t) {
		return time.Time{}, false
	}
	loc := b.location()
	lt := t.In(loc)
	var last time.Time
	for day := 0; day < searchDays; day++ {
		for _, s := range b.spansOn(lt.Year(), lt.Month(), lt.Day()-day, loc) {
			if !s.end.After(t) && s.end.After(last) {
				last = s.end
			}
		}
		// Spans starting on earlier days end no later than a day after they start, so once a closing
		// is found and we are two days further back, nothing later can appear.
		if !last.IsZero() && day >= 2 {
			break
		}
	}
	if last.IsZero() {
		return time.Time{}, false
	}
	return last.UTC(), true
}
