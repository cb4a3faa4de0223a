package routing

import (
	"testing"
	"time"

	"switchboard"
)

// cand is an eligible candidate: online, available, with room.
func cand(id int64, open int, last *time.Time) Candidate {
	return Candidate{AgentID: id, Capacity: 10, Open: open, LastAssignedAt: last, Online: true, Available: true}
}

func at(minute int) *time.Time {
	t := time.Date(2026, 11, 21, 9, minute, 0, 0, time.UTC)
	return &t
}

func TestEligible(t *testing.T) {
	cases := []struct {
		name string
		c    Candidate
		want bool
	}{
		{"online, available, room", cand(1, 9, nil), true},
		{"at capacity", cand(1, 10, nil), false},
		{"offline", Candidate{AgentID: 1, Capacity: 10, Available: true}, false},
		{"away", Candidate{AgentID: 1, Capacity: 10, Online: true}, false},
		{"disabled", Candidate{AgentID: 1, Capacity: 10, Online: true, Available: true, Disabled: true}, false},
		{"capacity zero takes nothing", Candidate{AgentID: 1, Online: true, Available: true}, false},
	}
	for _, tc := range cases {
		if got := tc.c.Eligible(); got != tc.want {
			t.Errorf("%s: Eligible = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPickLoad(t *testing.T) {
	full := cand(9, 10, nil)
	away := cand(8, 0, nil)
	away.Available = false
	cases := []struct {
		name  string
		cands []Candidate
		want  int64 // 0: nobody
	}{
		{"fewest open wins", []Candidate{cand(1, 3, nil), cand(2, 1, at(5)), cand(3, 2, nil)}, 2},
		{"tie: never assigned first", []Candidate{cand(1, 2, at(1)), cand(2, 2, nil)}, 2},
		{"tie: least recently assigned", []Candidate{cand(1, 2, at(7)), cand(2, 2, at(3)), cand(3, 2, at(5))}, 2},
		{"full tie: lowest id", []Candidate{cand(3, 2, at(1)), cand(2, 2, at(1))}, 2},
		{"ineligible ones are skipped even when idle", []Candidate{away, full, cand(4, 6, nil)}, 4},
		{"nobody eligible", []Candidate{away, full}, 0},
		{"no candidates", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := PickLoad(tc.cands)
			if (tc.want == 0) == ok || (ok && got.AgentID != tc.want) {
				t.Fatalf("PickLoad = %d, %v; want %d", got.AgentID, ok, tc.want)
			}
		})
	}
}

func TestPickRoundRobin(t *testing.T) {
	off := cand(2, 0, nil)
	off.Online = false
	full := cand(3, 10, nil)
	four := []Candidate{cand(4, 9, nil), cand(1, 0, nil), cand(3, 5, nil), cand(2, 1, nil)} // unsorted on purpose
	cases := []struct {
		name  string
		cands []Candidate
		after int64
		want  int64
	}{
		{"start of the rotation", four, 0, 1},
		{"next after the pointer, whatever the load", four, 1, 2},
		{"wraps around", four, 4, 1},
		{"pointer on an agent who left the channel", four, 7, 1},
		{"pointer between ids", []Candidate{cand(10, 0, nil), cand(20, 0, nil)}, 15, 20},
		{"skips the offline and the full", []Candidate{cand(1, 0, nil), off, full, cand(4, 0, nil)}, 1, 4},
		{"only the pointer's agent is eligible", []Candidate{cand(1, 0, nil), off}, 1, 1},
		{"nobody eligible", []Candidate{off, full}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := PickRoundRobin(tc.cands, tc.after)
			if (tc.want == 0) == ok || (ok && got.AgentID != tc.want) {
				t.Fatalf("PickRoundRobin(after %d) = %d, %v; want %d", tc.after, got.AgentID, ok, tc.want)
			}
		})
	}
}

// TestRotationIsFair plays a long rotation with an agent going offline and coming back: every turn
// goes to the next eligible agent, and counts stay within one of each other among those always there.
func TestRotationIsFair(t *testing.T) {
	cands := []Candidate{cand(1, 0, nil), cand(2, 0, nil), cand(3, 0, nil), cand(5, 0, nil)}
	cands[0].Capacity, cands[1].Capacity, cands[2].Capacity, cands[3].Capacity = 1000, 1000, 1000, 1000
	got := map[int64]int{}
	var after int64
	for turn := 0; turn < 403; turn++ {
		cands[2].Online = turn < 100 || turn >= 200 // agent 3 is away for a while
		c, ok := Pick(switchboard.AssignByRoundRobin, cands, after)
		if !ok {
			t.Fatal("nobody picked")
		}
		got[c.AgentID]++
		after = c.AgentID
		for i := range cands {
			if cands[i].AgentID == c.AgentID {
				cands[i].Open++
			}
		}
	}
	for _, id := range []int64{1, 2, 5} {
		if d := got[id] - got[1]; d < -1 || d > 1 {
			t.Fatalf("uneven rotation: %v", got)
		}
	}
	if got[3] < 70 || got[3] > 80 {
		t.Fatalf("agent 3 should get a quarter of the turns it was there for (~75): %v", got)
	}
}

func TestPickModes(t *testing.T) {
	cands := []Candidate{cand(1, 5, nil), cand(2, 0, nil), cand(3, 1, nil)}
	if c, _ := Pick(switchboard.AssignByLoad, cands, 2); c.AgentID != 2 {
		t.Fatalf("load mode picked %d", c.AgentID)
	}
	if c, _ := Pick(switchboard.AssignByRoundRobin, cands, 2); c.AgentID != 3 {
		t.Fatalf("round-robin mode picked %d", c.AgentID)
	}
}

type fakePresence map[int64]bool

func (f fakePresence) Online(id int64) bool { return f[id] }

func TestPoolCandidates(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	p := &Pool{
		Members: []switchboard.ChannelMember{{AgentID: 3, Capacity: 2}, {AgentID: 1, Capacity: 5}, {AgentID: 2, Capacity: 5}},
		Agents: map[int64]*switchboard.Agent{
			1: {ID: 1, Name: "Ana", Availability: switchboard.Available},
			2: {ID: 2, Name: "Bo", Availability: switchboard.Away},
			3: {ID: 3, Name: "Cy", Availability: switchboard.Available},
		},
		Open:   map[int64]int{3: 1},
		RRLast: 1,
	}
	cands := p.Candidates(fakePresence{1: true, 3: true}, nil)
	if len(cands) != 3 || cands[0].AgentID != 1 || !cands[0].Eligible() || cands[1].Eligible() || !cands[2].Eligible() || cands[2].Open != 1 {
		t.Fatalf("candidates: %+v", cands)
	}
	if only := p.Candidates(nil, map[int64]bool{3: true, 9: true}); len(only) != 1 || only[0].AgentID != 3 || only[0].Online {
		t.Fatalf("subset: %+v", only)
	}
	p.Assigned(3, now, true)
	if p.Open[3] != 2 || !p.Agents[3].LastAssignedAt.Equal(now) || p.RRLast != 3 {
		t.Fatalf("after a claim: %+v %+v", p.Open, p.Agents[3])
	}
	if c := p.Candidates(fakePresence{3: true}, nil); c[2].Eligible() {
		t.Fatal("agent 3 is full now")
	}
}

// BenchmarkPick measures the pure choice among 500 members, for both modes.
func BenchmarkPick(b *testing.B) {
	cands := make([]Candidate, 500)
	for i := range cands {
		cands[i] = cand(int64(i+1), i%100, at(i%60))
		cands[i].Capacity = 1000
	}
	for _, mode := range []string{switchboard.AssignByLoad, switchboard.AssignByRoundRobin} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				Pick(mode, cands, int64(i%500))
			}
		})
	}
}
