package load

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	cases := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"p0 is the minimum", ms(1, 2, 3), 0, time.Millisecond},
		{"negative p is the minimum", ms(1, 2, 3), -5, time.Millisecond},
		{"p100 is the maximum", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"above 100 is the maximum", ms(1, 2, 3), 250, 3 * time.Millisecond},
		// Wikipedia's nearest-rank examples: {15, 20, 35, 40, 50}.
		{"p5 of five", ms(15, 20, 35, 40, 50), 5, 15 * time.Millisecond},
		{"p30 of five", ms(15, 20, 35, 40, 50), 30, 20 * time.Millisecond},
		{"p40 of five", ms(15, 20, 35, 40, 50), 40, 20 * time.Millisecond},
		{"p50 of five", ms(15, 20, 35, 40, 50), 50, 35 * time.Millisecond},
		{"p100 of five", ms(15, 20, 35, 40, 50), 100, 50 * time.Millisecond},
		// {3, 6, 7, 8, 8, 10, 13, 15, 16, 20}: p25 → 7, p50 → 8, p75 → 15.
		{"p25 of ten", ms(3, 6, 7, 8, 8, 10, 13, 15, 16, 20), 25, 7 * time.Millisecond},
		{"p50 of ten", ms(3, 6, 7, 8, 8, 10, 13, 15, 16, 20), 50, 8 * time.Millisecond},
		{"p75 of ten", ms(3, 6, 7, 8, 8, 10, 13, 15, 16, 20), 75, 15 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.samples, tc.p); got != tc.want {
				t.Fatalf("Percentile(%v, %v) = %v, want %v", tc.samples, tc.p, got, tc.want)
			}
		})
	}
}

// TestPercentileExactRanks: with 1..n the p-th percentile is exactly ceil(p·n/100), including at
// products that floating point gets slightly wrong (0.95 × 100, 0.99 × 1000 ...).
func TestPercentileExactRanks(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 10, 99, 100, 101, 1000, 12345} {
		samples := make([]time.Duration, n)
		for i := range samples {
			samples[i] = time.Duration(i + 1)
		}
		for _, p := range []float64{1, 10, 25, 50, 90, 95, 99, 99.9} {
			want := 1
			for float64(want)*100 < p*float64(n) {
				want++ // the smallest rank r with r/n ≥ p/100, in integers
			}
			if got := Percentile(samples, p); got != time.Duration(want) {
				t.Fatalf("n=%d p=%v: got rank %d, want %d", n, p, got, want)
			}
		}
	}
}

// TestPercentileIsMonotonic: a higher percentile is never below a lower one, and the value is always a
// measured sample.
func TestPercentileIsMonotonic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n := 1 + rng.IntN(500)
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		}
		slices.Sort(s)
		prev := time.Duration(-1)
		for p := 0.0; p <= 100; p += 0.5 {
			v := Percentile(s, p)
			if v < prev {
				t.Fatalf("p%v = %v below the previous %v", p, v, prev)
			}
			if _, ok := slices.BinarySearch(s, v); !ok {
				t.Fatalf("p%v = %v is not a sample", p, v)
			}
			prev = v
		}
	}
}

func TestSummarize(t *testing.T) {
	if got := Summarize(nil); got != (Latency{}) {
		t.Fatalf("empty: %+v", got)
	}
	var s []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(s)
	want := Latency{Count: 100, Min: 1, Mean: 50.5, P50: 50, P95: 95, P99: 99, Max: 100}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if ms(1500*time.Microsecond) != 1.5 || ms(1234567*time.Nanosecond) != 1.235 {
		t.Fatalf("millisecond rounding: %v %v", ms(1500*time.Microsecond), ms(1234567*time.Nanosecond))
	}
}

func TestRecorderConcurrent(t *testing.T) {
	var r Recorder
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				r.Add(time.Duration(g*1000+i+1) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	got := r.Summary()
	if got.Count != 8000 || got.Min != 0.001 || got.Max != 8 || got.P50 != 4 {
		t.Fatalf("summary %+v", got)
	}
}

func TestCounter(t *testing.T) {
	var c Counter
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 250 {
				c.Inc("200")
			}
			c.Inc("503")
		}()
	}
	wg.Wait()
	got := c.Snapshot()
	if got["200"] != 1000 || got["503"] != 4 || len(got) != 2 {
		t.Fatalf("counts %v", got)
	}
	got["200"] = 0
	if c.Snapshot()["200"] != 1000 {
		t.Fatal("the snapshot is not a copy")
	}
}
