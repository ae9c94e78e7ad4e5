// Command idleconns opens -n keep-alive HTTP/1.1 connections to a loopback
// server, sends one request on each (so the server holds them as idle
// keep-alive connections, not half-open ones), prints "ready N" and holds
// them until -hold elapses or it is killed. The bench script reads the
// server's RSS meanwhile. Raise `ulimit -n` above -n first.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "", "host:port to connect to (required)")
	path := flag.String("path", "/healthz", "path requested once on each connection")
	n := flag.Int("n", 10000, "connections")
	hold := flag.Duration("hold", 60*time.Second, "how long to hold them")
	flag.Parse()
	if *addr == "" || *n <= 0 {
		fmt.Fprintln(os.Stderr, "usage: idleconns -addr HOST:PORT [-n 10000] [-hold 60s] [-path /healthz]")
		os.Exit(2)
	}
	conns := make([]net.Conn, 0, *n)
	req := []byte("GET " + *path + " HTTP/1.1\r\nHost: " + *addr + "\r\nConnection: keep-alive\r\n\r\n")
	failed := 0
	for i := 0; i < *n; i++ {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			failed++
			if failed > 100 {
				fmt.Fprintf(os.Stderr, "idleconns: %d dials failed, last: %v\n", failed, err)
				os.Exit(1)
			}
			continue
		}
		if err := roundTrip(c, req); err != nil {
			failed++
			_ = c.Close()
			continue
		}
		conns = append(conns, c)
	}
	fmt.Printf("ready %d failed %d\n", len(conns), failed)
	time.Sleep(*hold)
	for _, c := range conns {
		_ = c.Close()
	}
}

// roundTrip sends req on c and reads the whole answer, keeping c open.
func roundTrip(c net.Conn, req []byte) error {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	if _, err := c.Write(req); err != nil {
		return err
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.Close {
		return fmt.Errorf("server closed the connection")
	}
	_, err = io.Copy(io.Discard, res.Body)
	return err
}
