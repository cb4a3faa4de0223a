package switchboard

import (
	"testing"
	"time"
)

func mustTime(t *testing.T, tz, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBusinessHoursIsOpen(t *testing.T) {
	paris := BusinessHours{
		Enabled:     true,
		Timezone:    "Europe/Paris",
		AwayMessage: "closed",
		Weekly: map[string][]Interval{
			"monday":   {{"09:00", "12:00"}, {"14:00", "18:00"}},
			"friday":   {{"22:00", "02:00"}}, // overnight into Saturday
			"saturday": {{"10:00", "24:00"}},
			"sunday":   {{"01:00", "05:00"}},
		},
		Overrides: []DateOverride{
			{Date: "2026-12-28", Closed: true},                              // a Monday holiday
			{Date: "2026-12-21", Intervals: []Interval{{"10:00", "11:00"}}}, // special hours
		},
	}
	tests := []struct {
		at   string
		open bool
	}{
		{"2026-11-23 08:59", false}, // Monday before opening
		{"2026-11-23 09:00", true},
		{"2026-11-23 12:00", false}, // lunch
		{"2026-11-23 17:59", true},
		{"2026-11-23 18:00", false},
		{"2026-11-27 23:30", true}, // Friday night
		{"2026-11-28 01:59", true}, // spills into Saturday
		{"2026-11-28 02:00", false},
		{"2026-11-28 23:59", true}, // until 24:00
		{"2026-11-29 00:30", false},
		{"2026-12-28 10:00", false}, // holiday
		{"2026-12-21 09:30", false}, // special hours
		{"2026-12-21 10:30", true},
		{"2026-03-29 03:30", true},
	}
	for _, tt := range tests {
		at := mustTime(t, "Europe/Paris", tt.at)
		if got := paris.IsOpen(at); got != tt.open {
			t.Errorf("IsOpen(%s) = %v, want %v", tt.at, got, tt.open)
		}
	}
	if err := paris.Validate(); err != nil {
		t.Fatalf("valid schedule rejected: %v", err)
	}
}

func TestBusinessHoursNextOpeningAndClosedSince(t *testing.T) {
	ny := BusinessHours{
		Enabled: true, Timezone: "America/New_York", AwayMessage: "closed",
		Weekly: map[string][]Interval{"monday": {{"09:00", "17:00"}}, "tuesday": {{"09:00", "17:00"}}},
	}
	// Across the November DST change: Sunday 2026-11-01 ends daylight time.
	at := mustTime(t, "America/New_York", "2026-10-31 12:00") // Saturday
	next, ok := ny.NextOpening(at)
	want := mustTime(t, "America/New_York", "2026-11-02 09:00")
	if !ok || !next.Equal(want) {
		t.Fatalf("NextOpening = %v %v, want %v", next, ok, want)
	}
	since, ok := ny.ClosedSince(at)
	wantSince := mustTime(t, "America/New_York", "2026-10-27 17:00")
	if !ok || !since.Equal(wantSince) {
		t.Fatalf("ClosedSince = %v %v, want %v", since, ok, wantSince)
	}
	if _, ok := ny.ClosedSince(mustTime(t, "America/New_York", "2026-11-02 10:00")); ok {
		t.Fatal("ClosedSince while open should report false")
	}
	off := BusinessHours{Timezone: "UTC"}
	if !off.IsOpen(at) {
		t.Fatal("a disabled schedule is always open")
	}
}

func TestBusinessHoursValidate(t *testing.T) {
	tests := []struct {
		name  string
		bh    BusinessHours
		field string
	}{
		{"bad zone", BusinessHours{Timezone: "Mars/Base"}, "timezone"},
		{"bad clock", BusinessHours{Timezone: "UTC", Weekly: map[string][]Interval{"monday": {{"9:00", "17:00"}}}}, "weekly.monday.0.start"},
		{"empty interval", BusinessHours{Timezone: "UTC", Weekly: map[string][]Interval{"monday": {{"09:00", "09:00"}}}}, "weekly.monday.0.end"},
		{"unknown day", BusinessHours{Timezone: "UTC", Weekly: map[string][]Interval{"funday": nil}}, "weekly.funday"},
		{"away required", BusinessHours{Enabled: true, Timezone: "UTC"}, "away_message"},
		{"duplicate date", BusinessHours{Timezone: "UTC", Overrides: []DateOverride{{Date: "2026-12-25", Closed: true}, {Date: "2026-12-25", Closed: true}}}, "overrides.1.date"},
		{"override needs hours", BusinessHours{Timezone: "UTC", Overrides: []DateOverride{{Date: "2026-12-25"}}}, "overrides.0.intervals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.bh.Validate()
			if _, ok := ErrorFields(err)[tt.field]; !ok {
				t.Fatalf("want a problem on %q, got %v", tt.field, err)
			}
		})
	}
}
