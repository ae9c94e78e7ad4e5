// Command sseclient measures the latency a proxy adds to server-sent events.
// It reads -n events from -url (the bench upstream's /sse, directly or through
// a proxy); each event's data is the upstream's send time in Unix
// nanoseconds. It prints one line:
//
//	events=1000 median_us=85.2 p99_us=310.4 max_us=1200.0
//
// The client and upstream share the machine's clock, so the figures are
// absolute; compare a proxy with the direct run of the same round.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	url := flag.String("url", "", "SSE URL (required)")
	n := flag.Int("n", 1000, "events to read")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()
	if *url == "" || *n <= 0 {
		fmt.Fprintln(os.Stderr, "usage: sseclient -url URL [-n 1000] [-timeout 2m]")
		os.Exit(2)
	}
	lat, err := measure(*url, *n, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sseclient:", err)
		os.Exit(1)
	}
	slices.Sort(lat)
	fmt.Printf("events=%d median_us=%.1f p99_us=%.1f max_us=%.1f\n",
		len(lat), us(quantile(lat, 0.5)), us(quantile(lat, 0.99)), us(lat[len(lat)-1]))
}

func measure(url string, n int, timeout time.Duration) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", res.Status)
	}
	lat := make([]time.Duration, 0, n)
	sc := bufio.NewScanner(res.Body)
	for len(lat) < n && sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		recv := time.Now().UnixNano()
		sent, err := strconv.ParseInt(data, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("event data %q: %v", data, err)
		}
		lat = append(lat, time.Duration(recv-sent))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(lat) < n {
		return nil, fmt.Errorf("stream ended after %d of %d events", len(lat), n)
	}
	return lat, nil
}

// quantile is the nearest-rank quantile of sorted values.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
