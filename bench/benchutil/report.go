package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// cmdReport reads the bench script's results file and prints one Markdown
// table per scenario: the median over rounds of each metric for each target,
// and its ratio to the scenario's baseline (the direct upstream, measured in
// the same run). Lines of the file, tab-separated:
//
//	scenario target round metric value    a measurement
//	#title scenario text                  the scenario's heading
//	#baseline scenario target             ratios are to this target
//	#compare scenario a b metric          prints median(a)/median(b)
//	#note scenario text                   printed under the table
func cmdReport(args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("report: want one results file")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := parseResults(f)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	for _, sc := range r.order {
		s := r.scenarios[sc]
		title := s.title
		if title == "" {
			title = sc
		}
		fmt.Fprintf(w, "\n### %s\n\n", title)
		if len(s.targets) > 0 {
			hdr, sep := "| target |", "|---|"
			for _, m := range s.metrics {
				hdr += " " + m + " |"
				sep += "---:|"
				if s.baseline != "" {
					hdr += " ×" + s.baseline + " |"
					sep += "---:|"
				}
			}
			fmt.Fprintln(w, hdr)
			fmt.Fprintln(w, sep)
			for _, t := range s.targets {
				line := "| " + t + " |"
				for _, m := range s.metrics {
					v, ok := s.median(t, m)
					line += " " + fmtVal(v, ok) + " |"
					if s.baseline != "" {
						b, bok := s.median(s.baseline, m)
						line += " " + fmtRatio(v, b, ok && bok) + " |"
					}
				}
				fmt.Fprintln(w, line)
			}
			fmt.Fprintf(w, "\n(median of %d rounds)\n", s.rounds())
		}
		for _, c := range s.compares {
			a, aok := s.median(c[0], c[2])
			b, bok := s.median(c[1], c[2])
			fmt.Fprintf(w, "- %s / %s, %s: **%s**\n", c[0], c[1], c[2], fmtRatio(a, b, aok && bok))
		}
		for _, n := range s.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	return w.Flush()
}

type scenario struct {
	title, baseline  string
	targets, metrics []string
	values           map[[2]string][]float64
	roundSet         map[string]bool
	compares         [][3]string
	notes            []string
}

func (s *scenario) median(target, metric string) (float64, bool) {
	vs := slices.Clone(s.values[[2]string{target, metric}])
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], true
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, true
}

func (s *scenario) rounds() int { return len(s.roundSet) }

type results struct {
	order     []string
	scenarios map[string]*scenario
}

func (r *results) get(name string) *scenario {
	s := r.scenarios[name]
	if s == nil {
		s = &scenario{values: map[[2]string][]float64{}, roundSet: map[string]bool{}}
		r.scenarios[name] = s
		r.order = append(r.order, name)
	}
	return s
}

func parseResults(rd io.Reader) (*results, error) {
	r := &results{scenarios: map[string]*scenario{}}
	sc := bufio.NewScanner(rd)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		bad := fmt.Errorf("report: line %d: %q", n, line)
		switch f[0] {
		case "#title", "#note":
			if len(f) != 3 {
				return nil, bad
			}
			s := r.get(f[1])
			if f[0] == "#title" {
				s.title = f[2]
			} else {
				s.notes = append(s.notes, f[2])
			}
		case "#baseline":
			if len(f) != 3 {
				return nil, bad
			}
			r.get(f[1]).baseline = f[2]
		case "#compare":
			if len(f) != 5 {
				return nil, bad
			}
			s := r.get(f[1])
			s.compares = append(s.compares, [3]string{f[2], f[3], f[4]})
		default:
			if len(f) != 5 || strings.HasPrefix(f[0], "#") {
				return nil, bad
			}
			v, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				return nil, bad
			}
			s := r.get(f[0])
			if !slices.Contains(s.targets, f[1]) {
				s.targets = append(s.targets, f[1])
			}
			if !slices.Contains(s.metrics, f[3]) {
				s.metrics = append(s.metrics, f[3])
			}
			k := [2]string{f[1], f[3]}
			s.values[k] = append(s.values[k], v)
			s.roundSet[f[2]] = true
		}
	}
	return r, sc.Err()
}

func fmtVal(v float64, ok bool) string {
	switch {
	case !ok:
		return "–"
	case v >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func fmtRatio(a, b float64, ok bool) string {
	if !ok || b == 0 {
		return "–"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "×"
}
