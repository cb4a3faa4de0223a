package routing

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"switchboard"
)

// Facts are what routing rules test about a conversation when it is routed.
type Facts struct {
	// Text is the customer's message that triggered routing ("" when there is none, e.g. a handoff).
	Text    string
	Contact *switchboard.Contact
	// Returning is set when the contact had an earlier conversation.
	Returning bool
	// Now is the decision time; Hours is the channel's schedule, whose time zone also places the
	// weekday and time conditions.
	Now   time.Time
	Hours switchboard.BusinessHours
}

// FirstMatch returns the first enabled rule, in position order, whose conditions all hold, or nil.
func FirstMatch(rules []*switchboard.RoutingRule, f Facts) *switchboard.RoutingRule {
	for _, r := range rules {
		if r.Enabled && Match(r, f) {
			return r
		}
	}
	return nil
}

// Match reports whether every condition of the rule holds. A rule without conditions, or with a
// condition it cannot understand (an unknown field or operator, a broken regular expression), never
// matches: a rule that cannot be evaluated must not capture every conversation.
func Match(r *switchboard.RoutingRule, f Facts) bool {
	if len(r.Conditions) == 0 {
		return false
	}
	for i := range r.Conditions {
		if !holds(&r.Conditions[i], f) {
			return false
		}
	}
	return true
}

// holds evaluates one condition.
func holds(c *switchboard.RuleCondition, f Facts) bool {
	if len(c.Values) == 0 {
		return false
	}
	v := c.Values[0]
	var name, phone string
	var tags []string
	if f.Contact != nil {
		name, phone, tags = f.Contact.Name, f.Contact.Phone, f.Contact.Tags
		if phone == "" {
			phone = f.Contact.WaID
		}
	}
	switch c.Field + " " + c.Op {
	case switchboard.CondText + " " + switchboard.OpContains, switchboard.CondName + " " + switchboard.OpContains:
		return strings.Contains(strings.ToLower(pick(c.Field, f.Text, name)), strings.ToLower(v))
	case switchboard.CondText + " " + switchboard.OpEquals, switchboard.CondName + " " + switchboard.OpEquals:
		return strings.EqualFold(strings.TrimSpace(pick(c.Field, f.Text, name)), strings.TrimSpace(v))
	case switchboard.CondText + " " + switchboard.OpMatches, switchboard.CondName + " " + switchboard.OpMatches:
		re := compiled(v)
		return re != nil && re.MatchString(pick(c.Field, f.Text, name))
	case switchboard.CondPhone + " " + switchboard.OpPrefix:
		p, d := digits(v), digits(phone)
		return p != "" && strings.HasPrefix(d, p)
	case switchboard.CondPhone + " " + switchboard.OpEquals:
		d := digits(phone)
		return d != "" && d == digits(v)
	case switchboard.CondCountry + " " + switchboard.OpIn:
		// Calling codes form a prefix code (no code is the start of another), so the number's code is
		// the one it starts with.
		d := digits(phone)
		for _, code := range c.Values {
			if code = digits(code); code != "" && strings.HasPrefix(d, code) {
				return true
			}
		}
		return false
	case switchboard.CondTag + " " + switchboard.OpHas:
		for _, want := range c.Values {
			for _, t := range tags {
				if strings.EqualFold(strings.TrimSpace(t), strings.TrimSpace(want)) {
					return true
				}
			}
		}
		return false
	case switchboard.CondReturning + " " + switchboard.OpIs:
		return (v == "true") == f.Returning && (v == "true" || v == "false")
	case switchboard.CondBusinessHours + " " + switchboard.OpIs:
		open := f.Hours.IsOpen(f.Now)
		return (v == "inside" && open) || (v == "outside" && !open)
	case switchboard.CondWeekday + " " + switchboard.OpIn:
		day := switchboard.Weekdays[f.Now.In(location(f.Hours.Timezone)).Weekday()]
		for _, want := range c.Values {
			if strings.EqualFold(strings.TrimSpace(want), day) {
				return true
			}
		}
		return false
	case switchboard.CondTime + " " + switchboard.OpBetween:
		return len(c.Values) == 2 && between(f.Now.In(location(f.Hours.Timezone)), c.Values[0], c.Values[1])
	}
	return false
}

// pick returns the message text or the contact's name, whichever the field tests.
func pick(field, text, name string) string {
	if field == switchboard.CondName {
		return name
	}
	return text
}

// digits keeps the digits of a phone number or prefix ("+33 6-12" → "33612").
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// between reports whether the local wall-clock time of t is in [start, end). An end at or before the
// start wraps past midnight ("22:00"–"06:00"); "24:00" is the end of the day.
func between(t time.Time, start, end string) bool {
	s, ok1 := minutes(start)
	e, ok2 := minutes(end)
	if !ok1 || !ok2 || s == e {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	if s < e {
		return m >= s && m < e
	}
	return m >= s || m < e
}

// minutes turns "HH:MM" into minutes after midnight; "24:00" is 1440.
func minutes(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	switch {
	case err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59:
		return 0, false
	case h == 24 && m == 0:
		return 24 * 60, true
	case h > 23:
		return 0, false
	}
	return h*60 + m, true
}

// Regular expressions and time zones are compiled once per process: rules are evaluated for every
// routed conversation. Both caches are bounded by what admins configure.
var (
	regexps   sync.Map // pattern → *regexp.Regexp, or nil for an invalid pattern
	locations sync.Map // IANA name → *time.Location
)

func compiled(pattern string) *regexp.Regexp {
	if re, ok := regexps.Load(pattern); ok {
		return re.(*regexp.Regexp)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		re = nil
	}
	regexps.Store(pattern, re)
	return re
}

func location(name string) *time.Location {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		loc = time.UTC
	}
	locations.Store(name, loc)
	return loc
}
