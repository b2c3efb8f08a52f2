//go:build linux

package runtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// tcpListen is the st column of a listening socket in /proc/net/tcp{,6}.
const tcpListen = "0A"

// ListeningPorts reads /proc/<init>/net/tcp and tcp6 on the host: the
// tables of the init's network namespace, so no tool inside the container
// is needed.
func (n *Native) ListeningPorts(ctx context.Context, ctid int) ([]int, error) {
	s, err := n.liveState(ctid)
	if err != nil {
		return nil, fmt.Errorf("listening ports of %d: %w", ctid, err)
	}
	if s == nil {
		return nil, fmt.Errorf("listening ports of %d: %w", ctid, ErrNotRunning)
	}
	ports, err := ListeningPortsOfPID(s.InitPID)
	if err != nil {
		return nil, fmt.Errorf("listening ports of %d: %w", ctid, err)
	}
	if !s.alive() { // the pid was reused while we read
		return nil, fmt.Errorf("listening ports of %d: %w", ctid, ErrNotRunning)
	}
	return ports, nil
}

// ListeningPortsOfPID lists the TCP ports in LISTEN state in the network
// namespace of host process pid (IPv6 tables are optional: a kernel
// without IPv6 has none).
func ListeningPortsOfPID(pid int) ([]int, error) {
	var tables []byte
	for _, name := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, name))
		if errors.Is(err, fs.ErrNotExist) && name == "tcp6" {
			continue
		}
		if err != nil {
			return nil, err
		}
		tables = append(tables, data...)
	}
	return ParseListeningPorts(tables)
}

// ListeningPorts runs a shell loop inside the container through the tool
// that prints its /proc/net/tcp and tcp6 (shell built-ins only: the tools
// run every command line through a shell), and parses them on the host.
func (t *Tool) ListeningPorts(ctx context.Context, ctid int) ([]int, error) {
	const printTables = `for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] || continue; while IFS= read -r l; do echo "$l"; done < "$f"; done`
	var stdout bytes.Buffer
	code, tail, err := t.run(ctx, t.path, t.dialect.exec(ctid, printTables), nil, &stdout, nil)
	if err == nil && code != 0 {
		err = toolFailed(t.name, t.dialect.exec(ctid, printTables), code, tail)
	}
	if err != nil {
		return nil, fmt.Errorf("listening ports of %d: %w", ctid, err)
	}
	ports, err := ParseListeningPorts(stdout.Bytes())
	if err != nil {
		return nil, fmt.Errorf("listening ports of %d: %w", ctid, err)
	}
	return ports, nil
}

// ParseListeningPorts reads the lines of /proc/net/tcp or tcp6 (header
// lines included, several tables concatenated) and returns the local ports
// of the sockets in LISTEN state, sorted, each once.
func ParseListeningPorts(tables []byte) ([]int, error) {
	var ports []int
	sc := bufio.NewScanner(bytes.NewReader(tables))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasSuffix(f[0], ":") {
			continue // a header line
		}
		if f[3] != tcpListen {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if !ok || err != nil {
			return nil, fmt.Errorf("unexpected local address %q in a TCP table", f[1])
		}
		ports = append(ports, int(port))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.Sort(ports)
	return slices.Compact(ports), nil
}
