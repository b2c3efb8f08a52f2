//go:build linux

package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testdata/proc-net holds an IPv4 and an IPv6 table: listening on 22 and
// 3306 (IPv4), 80 and 22 (IPv6); an established connection from 22 and a
// TIME_WAIT on 8080 are no listeners.
var wantFixturePorts = []int{22, 80, 3306}

func TestParseListeningPorts(t *testing.T) {
	tcp, err := os.ReadFile("testdata/proc-net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	tcp6, err := os.ReadFile("testdata/proc-net/tcp6")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tables  []byte
		want    []int
		wantErr bool
	}{
		{"both tables", append(append([]byte{}, tcp...), tcp6...), wantFixturePorts, false},
		{"ipv4 only", tcp, []int{22, 3306}, false},
		{"headers only", []byte("  sl  local_address rem_address   st\n"), nil, false},
		{"empty", nil, nil, false},
		{"bad port", []byte("   0: 00000000:ZZZZ 00000000:0000 0A 0\n"), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseListeningPorts(tt.tables)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ports (-want +got):\n%s", d)
			}
		})
	}
}

// TestNativeListeningPorts: a port a process listens on inside the
// container is seen from the host, read from the init's network namespace
// (the container has nothing but busybox; the host's own listeners are not
// in it), and a stopped container is ErrNotRunning.
func TestNativeListeningPorts(t *testing.T) {
	t.Parallel()
	c := newTestCT(t, 104, "/sbin/init")
	c.start()
	if _, code := c.run("", "httpd", "-p", "4242", "-h", "/"); code != 0 {
		t.Fatalf("httpd exit %d", code)
	}
	var ports []int
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(ports, 4242) && time.Now().Before(deadline) {
		var err error
		if ports, err = c.rt.ListeningPorts(context.Background(), 104); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := cmp.Diff([]int{4242}, ports); d != "" {
		t.Errorf("ports (-want +got):\n%s", d)
	}
	c.stop()
	if _, err := c.rt.ListeningPorts(context.Background(), 104); !errors.Is(err, ErrNotRunning) {
		t.Errorf("ports of a stopped container: %v, want ErrNotRunning", err)
	}
}

// TestToolListeningPorts: through the tool, a shell loop inside the
// container prints its tables (here the fixture, standing in for
// /proc/net) and the host parses them.
func TestToolListeningPorts(t *testing.T) {
	fixture, err := filepath.Abs("testdata/proc-net")
	if err != nil {
		t.Fatal(err)
	}
	path, _, _ := scriptedTool(t, `case "$1 $2" in
"--quiet exec2") exec /bin/sh -c "$(echo "$4" | sed "s#/proc/net#`+fixture+`#g")" ;;
esac
`)
	ports, err := NewVzctl(path, "/nonexistent/vzlist").ListeningPorts(context.Background(), 101)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantFixturePorts, ports); d != "" {
		t.Errorf("ports (-want +got):\n%s", d)
	}
}
