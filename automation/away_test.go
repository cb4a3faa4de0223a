package automation_test

import (
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/automation"
)

func weekdays(start, end string) map[string][]switchboard.Interval {
	w := map[string][]switchboard.Interval{}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday"} {
		w[d] = []switchboard.Interval{{Start: start, End: end}}
	}
	return w
}

func everyDay(start, end string) map[string][]switchboard.Interval {
	w := map[string][]switchboard.Interval{}
	for _, d := range switchboard.Weekdays {
		w[d] = []switchboard.Interval{{Start: start, End: end}}
	}
	return w
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// step is a customer message at a local time and whether it should get the away message.
type step struct {
	at   time.Time
	away bool
}

// TestAwayMessageOncePerClosedPeriod sends one customer's messages through the inbound automations
// at set times and checks that each closed period gets exactly one away message.
func TestAwayMessageOncePerClosedPeriod(t *testing.T) {
	paris, newYork, london := mustZone(t, "Europe/Paris"), mustZone(t, "America/New_York"), mustZone(t, "Europe/London")
	for _, tc := range []struct {
		name  string
		hours switchboard.BusinessHours
		steps []step
	}{{
		// Clocks go back on Sunday 25 October 2026 at 03:00 CEST: the weekend is one closed period.
		name:  "weekend across the end of DST",
		hours: switchboard.BusinessHours{Timezone: "Europe/Paris", Weekly: weekdays("09:00", "17:30")},
		steps: []step{
			{time.Date(2026, 10, 23, 18, 0, 0, 0, paris), true},   // Friday evening, CEST
			{time.Date(2026, 10, 24, 12, 0, 0, 0, paris), false},  // Saturday
			{time.Date(2026, 10, 25, 2, 30, 0, 0, paris), false},  // the repeated hour
			{time.Date(2026, 10, 26, 8, 59, 0, 0, paris), false},  // Monday before opening, CET
			{time.Date(2026, 10, 26, 9, 30, 0, 0, paris), false},  // open
			{time.Date(2026, 10, 26, 17, 31, 0, 0, paris), true},  // Monday evening: a new period
			{time.Date(2026, 10, 26, 23, 59, 0, 0, paris), false}, // same night
		},
	}, {
		// Clocks go forward on Sunday 29 March 2026 at 02:00 CET.
		name:  "weekend across the start of DST",
		hours: switchboard.BusinessHours{Timezone: "Europe/Paris", Weekly: weekdays("09:00", "17:30")},
		steps: []step{
			{time.Date(2026, 3, 27, 17, 45, 0, 0, paris), true},
			{time.Date(2026, 3, 29, 3, 30, 0, 0, paris), false},
			{time.Date(2026, 3, 30, 8, 45, 0, 0, paris), false},
			{time.Date(2026, 3, 30, 17, 30, 0, 0, paris), true},
		},
	}, {
		name:  "overnight opening hours",
		hours: switchboard.BusinessHours{Timezone: "America/New_York", Weekly: everyDay("18:00", "02:00")},
		steps: []step{
			{time.Date(2026, 11, 24, 1, 0, 0, 0, newYork), false},   // open since 18:00 yesterday
			{time.Date(2026, 11, 24, 3, 0, 0, 0, newYork), true},    // closed since 02:00
			{time.Date(2026, 11, 24, 17, 59, 0, 0, newYork), false}, // same daytime period
			{time.Date(2026, 11, 24, 23, 0, 0, 0, newYork), false},  // open
			{time.Date(2026, 11, 25, 2, 0, 0, 0, newYork), true},    // closed again at 02:00
		},
	}, {
		name: "a holiday joins the closed period",
		hours: switchboard.BusinessHours{Timezone: "Europe/London", Weekly: weekdays("09:00", "17:00"), Overrides: []switchboard.DateOverride{
			{Date: "2026-12-24", Intervals: []switchboard.Interval{{Start: "09:00", End: "13:00"}}},
			{Date: "2026-12-25", Closed: true},
		}},
		steps: []step{
			{time.Date(2026, 12, 24, 12, 0, 0, 0, london), false}, // special hours: open
			{time.Date(2026, 12, 24, 14, 0, 0, 0, london), true},  // closed since 13:00
			{time.Date(2026, 12, 25, 10, 0, 0, 0, london), false}, // Christmas: same period
			{time.Date(2026, 12, 26, 10, 0, 0, 0, london), false}, // Saturday
			{time.Date(2026, 12, 28, 10, 0, 0, 0, london), false}, // Monday: open
			{time.Date(2026, 12, 28, 17, 0, 0, 0, london), true},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			hours := tc.hours
			hours.Enabled = true
			hours.AwayMessage = "We're closed; we'll answer when we're back."
			each(t, tc.steps[0].at, func(s *switchboard.ChannelSettings) {
				s.BusinessHours = hours
			}, func(t *testing.T, e *env) {
				var convID int64
				for i, st := range tc.steps {
					e.clock.Set(st.at)
					job, out := e.text("33612345678", "anyone there?")
					if convID == 0 {
						convID = job.ConversationID
					}
					if job.ConversationID != convID {
						t.Fatalf("step %d: the conversation changed", i)
					}
					if out.AwaySent != st.away || !out.Route {
						t.Fatalf("step %d at %s: away sent %v, want %v", i, st.at, out.AwaySent, st.away)
					}
				}
				want := 0
				for _, st := range tc.steps {
					if st.away {
						want++
					}
				}
				if got := len(e.automated(convID)); got != want {
					t.Fatalf("away messages: %d, want %d", got, want)
				}
			})
		})
	}
}

func TestAwayMessageAndTheAIAgent(t *testing.T) {
	saturday := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, awayWhileAI := range []bool{false, true} {
		// Distinct subtest names: a "#01" suffix would cut the SQLite file URI short.
		t.Run(fmt.Sprintf("away_while_ai_%v", awayWhileAI), func(t *testing.T) {
			each(t, saturday, func(s *switchboard.ChannelSettings) {
				s.BusinessHours = switchboard.BusinessHours{Enabled: true, Timezone: "UTC", AwayMessage: "Closed.",
					Weekly: weekdays("09:00", "17:00"), AwayWhileAI: awayWhileAI}
			}, func(t *testing.T, e *env) {
				job := e.receive("33612345678", &switchboard.Message{Type: switchboard.TypeText, Text: "hi"})
				if _, err := e.s.SQL().ExecContext(t.Context(), `UPDATE conversations SET assignee_kind = 'ai', assignee_id = 1 WHERE id = $1`, job.ConversationID); err != nil {
					t.Fatal(err)
				}
				if out := e.handle(job); out.AwaySent != awayWhileAI {
					t.Fatalf("away_while_ai %v: away sent %v", awayWhileAI, out.AwaySent)
				}
			})
		})
	}
}

func TestAwayPeriod(t *testing.T) {
	bh := &switchboard.BusinessHours{Enabled: true, Timezone: "UTC", Weekly: weekdays("09:00", "17:00")}
	friday := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	if p, ok := automation.AwayPeriod(bh, friday.Add(26*time.Hour)); !ok || !p.Equal(friday) {
		t.Fatalf("saturday: %v %v", p, ok)
	}
	if _, ok := automation.AwayPeriod(bh, friday.Add(-time.Hour)); ok {
		t.Fatal("open on friday afternoon")
	}
	never := &switchboard.BusinessHours{Enabled: true, Timezone: "UTC"}
	p1, ok1 := automation.AwayPeriod(never, friday)
	p2, ok2 := automation.AwayPeriod(never, friday.Add(72*time.Hour))
	if !ok1 || !ok2 || !p1.Equal(p2) {
		t.Fatalf("a schedule without hours is one closed period: %v %v", p1, p2)
	}
	if _, ok := automation.AwayPeriod(&switchboard.BusinessHours{Timezone: "UTC"}, friday); ok {
		t.Fatal("a disabled schedule is always open")
	}
}
