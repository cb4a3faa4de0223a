package routing

import (
	"testing"
	"time"

	"switchboard"
)

func cond(field, op string, values ...string) switchboard.RuleCondition {
	return switchboard.RuleCondition{Field: field, Op: op, Values: values}
}

// A Wednesday, 2026-11-18 14:30 UTC: 15:30 in Paris, 09:30 in New York.
var wed1430 = time.Date(2026, 11, 18, 14, 30, 0, 0, time.UTC)

func parisHours(enabled bool) switchboard.BusinessHours {
	return switchboard.BusinessHours{Enabled: enabled, Timezone: "Europe/Paris", AwayMessage: "closed",
		Weekly: map[string][]switchboard.Interval{"wednesday": {{Start: "09:00", End: "12:00"}, {Start: "14:00", End: "18:00"}}}}
}

func TestConditions(t *testing.T) {
	marie := &switchboard.Contact{Name: "Marie Curie", Phone: "+33612345678", WaID: "33612345678", Tags: []string{"VIP", "fr"}}
	john := &switchboard.Contact{Name: "John", WaID: "14155550100", Tags: []string{}}
	base := Facts{Text: "Bonjour, my ORDER #1234 is late", Contact: marie, Now: wed1430, Hours: parisHours(true)}
	cases := []struct {
		name string
		c    switchboard.RuleCondition
		f    func(f *Facts)
		want bool
	}{
		{"text contains, any case", cond(switchboard.CondText, switchboard.OpContains, "order"), nil, true},
		{"text contains missing", cond(switchboard.CondText, switchboard.OpContains, "refund"), nil, false},
		{"text equals trims and folds", cond(switchboard.CondText, switchboard.OpEquals, " hello "), func(f *Facts) { f.Text = "HELLO" }, true},
		{"text equals is not contains", cond(switchboard.CondText, switchboard.OpEquals, "order"), nil, false},
		{"text matches regexp", cond(switchboard.CondText, switchboard.OpMatches, `#\d{4}`), nil, true},
		{"text matches is case-sensitive unless (?i)", cond(switchboard.CondText, switchboard.OpMatches, `order`), nil, false},
		{"text matches (?i)", cond(switchboard.CondText, switchboard.OpMatches, `(?i)order`), nil, true},
		{"broken regexp never matches", cond(switchboard.CondText, switchboard.OpMatches, `(`), nil, false},
		{"empty text", cond(switchboard.CondText, switchboard.OpContains, "order"), func(f *Facts) { f.Text = "" }, false},
		{"phone prefix with +", cond(switchboard.CondPhone, switchboard.OpPrefix, "+336"), nil, true},
		{"phone prefix without +", cond(switchboard.CondPhone, switchboard.OpPrefix, "336"), nil, true},
		{"phone prefix other", cond(switchboard.CondPhone, switchboard.OpPrefix, "+337"), nil, false},
		{"phone equals", cond(switchboard.CondPhone, switchboard.OpEquals, "+33 6 12 34 56 78"), nil, true},
		{"phone from wa_id when phone is empty", cond(switchboard.CondPhone, switchboard.OpPrefix, "+1415"), func(f *Facts) { f.Contact = john }, true},
		{"country in", cond(switchboard.CondCountry, switchboard.OpIn, "44", "33"), nil, true},
		{"country not in", cond(switchboard.CondCountry, switchboard.OpIn, "1", "44"), nil, false},
		{"country of a NANP number", cond(switchboard.CondCountry, switchboard.OpIn, "1"), func(f *Facts) { f.Contact = john }, true},
		{"name contains", cond(switchboard.CondName, switchboard.OpContains, "curie"), nil, true},
		{"name equals", cond(switchboard.CondName, switchboard.OpEquals, "marie curie"), nil, true},
		{"name matches", cond(switchboard.CondName, switchboard.OpMatches, `^Marie\b`), nil, true},
		{"no contact", cond(switchboard.CondName, switchboard.OpContains, "a"), func(f *Facts) { f.Contact = nil }, false},
		{"tag has one of", cond(switchboard.CondTag, switchboard.OpHas, "gold", "vip"), nil, true},
		{"tag has none", cond(switchboard.CondTag, switchboard.OpHas, "gold"), nil, false},
		{"returning true", cond(switchboard.CondReturning, switchboard.OpIs, "true"), func(f *Facts) { f.Returning = true }, true},
		{"returning true on a new contact", cond(switchboard.CondReturning, switchboard.OpIs, "true"), nil, false},
		{"new contact", cond(switchboard.CondReturning, switchboard.OpIs, "false"), nil, true},
		{"returning garbage", cond(switchboard.CondReturning, switchboard.OpIs, "maybe"), nil, false},
		{"inside business hours (15:30 Paris)", cond(switchboard.CondBusinessHours, switchboard.OpIs, "inside"), nil, true},
		{"outside business hours", cond(switchboard.CondBusinessHours, switchboard.OpIs, "outside"), nil, false},
		{"lunch break is outside", cond(switchboard.CondBusinessHours, switchboard.OpIs, "outside"), func(f *Facts) { f.Now = wed1430.Add(-2 * time.Hour) }, true},
		{"disabled schedule is always inside", cond(switchboard.CondBusinessHours, switchboard.OpIs, "inside"), func(f *Facts) { f.Hours = parisHours(false); f.Now = wed1430.Add(10 * time.Hour) }, true},
		{"weekday in the schedule's zone", cond(switchboard.CondWeekday, switchboard.OpIn, "wednesday"), nil, true},
		{"weekday after local midnight", cond(switchboard.CondWeekday, switchboard.OpIn, "thursday"), func(f *Facts) { f.Now = time.Date(2026, 11, 18, 23, 30, 0, 0, time.UTC) }, true},
		{"weekday not in", cond(switchboard.CondWeekday, switchboard.OpIn, "saturday", "sunday"), nil, false},
		{"time between (local 15:30)", cond(switchboard.CondTime, switchboard.OpBetween, "15:00", "16:00"), nil, true},
		{"time between is end-exclusive", cond(switchboard.CondTime, switchboard.OpBetween, "14:00", "15:30"), nil, false},
		{"time between is UTC-blind", cond(switchboard.CondTime, switchboard.OpBetween, "14:00", "15:00"), nil, false},
		{"overnight window", cond(switchboard.CondTime, switchboard.OpBetween, "22:00", "06:00"), func(f *Facts) { f.Now = time.Date(2026, 11, 18, 2, 0, 0, 0, time.UTC) }, true},
		{"overnight window by day", cond(switchboard.CondTime, switchboard.OpBetween, "22:00", "06:00"), nil, false},
		{"until midnight", cond(switchboard.CondTime, switchboard.OpBetween, "15:00", "24:00"), nil, true},
		{"malformed time", cond(switchboard.CondTime, switchboard.OpBetween, "3pm", "5pm"), nil, false},
		{"unknown field", cond("mood", switchboard.OpIs, "happy"), nil, false},
		{"wrong operator for field", cond(switchboard.CondTag, switchboard.OpContains, "VIP"), nil, false},
		{"no values", cond(switchboard.CondText, switchboard.OpContains), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			if tc.f != nil {
				tc.f(&f)
			}
			rule := &switchboard.RoutingRule{Enabled: true, Conditions: []switchboard.RuleCondition{tc.c}}
			if got := Match(rule, f); got != tc.want {
				t.Fatalf("Match(%+v) = %v, want %v", tc.c, got, tc.want)
			}
		})
	}
}

func TestFirstMatch(t *testing.T) {
	vip := &switchboard.RoutingRule{ID: 1, Name: "VIP in France", Enabled: true, Conditions: []switchboard.RuleCondition{
		cond(switchboard.CondTag, switchboard.OpHas, "vip"), cond(switchboard.CondCountry, switchboard.OpIn, "33")}}
	off := &switchboard.RoutingRule{ID: 2, Name: "Disabled catch-all", Enabled: false, Conditions: []switchboard.RuleCondition{
		cond(switchboard.CondText, switchboard.OpMatches, ".*")}}
	billing := &switchboard.RoutingRule{ID: 3, Name: "Billing", Enabled: true, Conditions: []switchboard.RuleCondition{
		cond(switchboard.CondText, switchboard.OpContains, "invoice")}}
	empty := &switchboard.RoutingRule{ID: 4, Name: "No conditions", Enabled: true}
	rules := []*switchboard.RoutingRule{vip, off, empty, billing}
	cases := []struct {
		name string
		f    Facts
		want *switchboard.RoutingRule
	}{
		{"all conditions of the first rule hold", Facts{Text: "invoice", Contact: &switchboard.Contact{Phone: "+33612", Tags: []string{"VIP"}}}, vip},
		{"one condition fails: the next rule", Facts{Text: "my invoice", Contact: &switchboard.Contact{Phone: "+44712", Tags: []string{"VIP"}}}, billing},
		{"disabled and empty rules never match", Facts{Text: "hello", Contact: &switchboard.Contact{Phone: "+44712"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := FirstMatch(rules, tc.f); got != tc.want {
				t.Fatalf("FirstMatch = %v, want %v", got, tc.want)
			}
		})
	}
}
