package switchboard

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Routing rule condition fields.
const (
	CondText          = "text"              // the customer's message text: contains, matches (regexp), equals
	CondPhone         = "contact_phone"     // the contact's phone number: prefix, equals
	CondCountry       = "contact_country"   // the calling code of the contact's phone: in (e.g. ["33","44"])
	CondName          = "contact_name"      // contains, equals
	CondTag           = "contact_tag"       // has (one of the values)
	CondReturning     = "contact_returning" // is: "true" (had an earlier conversation) or "false"
	CondBusinessHours = "business_hours"    // is: "inside" or "outside"
	CondWeekday       = "weekday"           // in: ["monday", ...] in the schedule's time zone
	CondTime          = "time"              // between: ["09:00", "17:00"] in the schedule's time zone
)

// RotationUnchecked, as the rotation an assignment expects to find on a round-robin channel, moves the
// rotation to the assignee whatever it points at (the router's last, relaxed attempt); -1 leaves it
// alone, and an agent id (0: nobody yet) moves it only from that agent.
const RotationUnchecked int64 = -2

// Routing rule condition operators.
const (
	OpContains = "contains"
	OpMatches  = "matches"
	OpEquals   = "equals"
	OpPrefix   = "prefix"
	OpIn       = "in"
	OpHas      = "has"
	OpIs       = "is"
	OpBetween  = "between"
)

// allowedOps lists, per field, the operators that make sense for it.
var allowedOps = map[string][]string{
	CondText:          {OpContains, OpMatches, OpEquals},
	CondPhone:         {OpPrefix, OpEquals},
	CondCountry:       {OpIn},
	CondName:          {OpContains, OpEquals, OpMatches},
	CondTag:           {OpHas},
	CondReturning:     {OpIs},
	CondBusinessHours: {OpIs},
	CondWeekday:       {OpIn},
	CondTime:          {OpBetween},
}

// RuleCondition is one test of a routing rule. Values hold the operand(s): one for contains, matches,
// equals, prefix and is; one or more for in and has; two for between.
type RuleCondition struct {
	Field  string   `json:"field"`
	Op     string   `json:"op"`
	Values []string `json:"values"`
}

// Routing targets.
const (
	TargetAgent   = "agent"
	TargetTeam    = "team"
	TargetAIAgent = "ai_agent"
)

// RuleTarget is where a matching rule sends the conversation.
type RuleTarget struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
}

// RoutingRule assigns a conversation to its target when all its conditions hold. A channel's rules are
// evaluated in Position order; the first match wins.
type RoutingRule struct {
	ID         int64           `json:"id"`
	ChannelID  int64           `json:"channel_id"`
	Position   int             `json:"position"`
	Name       string          `json:"name"`
	Enabled    bool            `json:"enabled"`
	Conditions []RuleCondition `json:"conditions"`
	Target     RuleTarget      `json:"target"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

var countryCodeRe = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)

// Validate checks the rule: a name, at least one well-formed condition and a target.
func (r *RoutingRule) Validate() error {
	var p Problems
	p.Check(strings.TrimSpace(r.Name) != "", "name", "Name is required.")
	p.Check(utf8.RuneCountInString(r.Name) <= 100, "name", "Name must be at most 100 characters.")
	p.Check(len(r.Conditions) > 0, "conditions", "Add at least one condition.")
	p.Check(len(r.Conditions) <= 20, "conditions", "At most 20 conditions.")
	for i, c := range r.Conditions {
		p.Merge("conditions."+strconv.Itoa(i), c.Validate())
	}
	switch r.Target.Kind {
	case TargetAgent, TargetTeam, TargetAIAgent:
	default:
		p.Add("target.kind", `Target must be "agent", "team" or "ai_agent".`)
	}
	p.Check(r.Target.ID > 0, "target.id", "Choose the target.")
	return p.Err()
}

// Validate checks that the condition's field, operator and values fit together.
func (c *RuleCondition) Validate() error {
	var p Problems
	ops, ok := allowedOps[c.Field]
	if !ok {
		p.Add("field", "Unknown field.")
		return p.Err()
	}
	okOp := false
	for _, o := range ops {
		okOp = okOp || o == c.Op
	}
	if !okOp {
		p.Add("op", "Use one of: "+strings.Join(ops, ", ")+".")
		return p.Err()
	}
	n := len(c.Values)
	switch c.Op {
	case OpIn, OpHas:
		p.Check(n >= 1, "values", "Give at least one value.")
	case OpBetween:
		p.Check(n == 2, "values", "Give a start and an end, e.g. 09:00 and 17:00.")
	default:
		p.Check(n == 1, "values", "Give exactly one value.")
	}
	for _, v := range c.Values {
		p.Check(strings.TrimSpace(v) != "" && utf8.RuneCountInString(v) <= 500, "values", "Values must be 1–500 characters.")
	}
	if p.Err() != nil {
		return p.Err()
	}
	switch {
	case c.Op == OpMatches:
		if _, err := regexp.Compile(c.Values[0]); err != nil {
			p.Add("values", "Not a valid regular expression.")
		}
	case c.Field == CondCountry:
		for _, v := range c.Values {
			p.Check(countryCodeRe.MatchString(v), "values", "Country calling codes are digits, e.g. 33.")
		}
	case c.Field == CondPhone && c.Op == OpPrefix:
		p.Check(regexp.MustCompile(`^\+?[0-9]{1,15}$`).MatchString(c.Values[0]), "values", "A phone prefix is digits, e.g. +3361.")
	case c.Field == CondReturning:
		p.Check(c.Values[0] == "true" || c.Values[0] == "false", "values", `Use "true" or "false".`)
	case c.Field == CondBusinessHours:
		p.Check(c.Values[0] == "inside" || c.Values[0] == "outside", "values", `Use "inside" or "outside".`)
	case c.Field == CondWeekday:
		for _, v := range c.Values {
			known := false
			for _, d := range Weekdays {
				known = known || d == v
			}
			p.Check(known, "values", "Use monday … sunday.")
		}
	case c.Field == CondTime:
		_, ok1 := parseClock(c.Values[0], false)
		_, ok2 := parseClock(c.Values[1], true)
		p.Check(ok1 && ok2, "values", "Use HH:MM, e.g. 09:00 and 17:00.")
	}
	return p.Err()
}
