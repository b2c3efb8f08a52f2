package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// copyFromOldArea is what a vendor plugin does with the old area through
// the host alone: it reads the customer's notes, lists their home, writes
// the notes into the new area owned by the customer (1000:1000, 0640),
// and writes what it listed and what reading a symlink out of the old area
// answered next to them.
func copyFromOldArea(ctx context.Context, host sdk.Host) error {
	data, err := host.ReadOldFile(ctx, "/home/customer/notes.txt")
	if err != nil {
		return err
	}
	entries, err := host.ListDir(ctx, sdk.AreaOld, "/home/customer")
	if err != nil {
		return err
	}
	var list strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&list, "%s %s %v %d:%d %d\n", e.Name, e.Type, e.Mode, e.UID, e.GID, e.Size)
	}
	if err := host.WriteFileOwned(ctx, "/srv/vendor/notes.txt", data, 0o640, sdk.Owner{UID: 1000, GID: 1000}, true); err != nil {
		return err
	}
	if err := host.WriteFile(ctx, "/srv/vendor/list.txt", []byte(list.String()), 0o644, false); err != nil {
		return err
	}
	escape := "read"
	if _, err := host.ReadOldFile(ctx, "/home/customer/link"); err != nil {
		escape = err.Error()
	}
	return host.WriteFile(ctx, "/srv/vendor/escape.txt", []byte(escape), 0o644, false)
}

// TestVendorPluginReadsTheOldArea: a vendor plugin reads a file of the old
// area through the host whether the swap kept it at /old or parked it for
// deletion (--skipbackup), lists a directory of it, and writes a file into
// the new area with an owner and mode; a symlink in the old area that
// points out of it is refused.
func TestVendorPluginReadsTheOldArea(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"kept", "skipbackup"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			dir := h.Path("plugin-dir")
			installPlugin(t, dir, "crashy", crashyWrapper("serve", newTag(t)), 0o755)
			pipeline := h.writePipelineFile("crashy.hcl", crashyPipeline("configure", `    mode = "old-area"`))
			args := []string{"--pipeline", pipeline, "101"}
			if mode == "skipbackup" {
				args = append([]string{"--skipbackup"}, args...)
			}
			r := h.cliEnv([]string{"REINSTALL_PLUGIN_DIR=" + dir}, args...)
			if r.code != 0 {
				t.Fatalf("exit %d, want 0\nstderr:\n%s", r.code, r.stderr)
			}
			if mode == "skipbackup" && exists(h.private("old")) {
				t.Fatalf("--skipbackup kept the old area at /old")
			}
			notes := h.private("srv/vendor/notes.txt")
			if got := readFile(t, notes); got != "precious data\n" {
				t.Errorf("the notes in the new area: %q, want the old area's", got)
			}
			var st syscall.Stat_t
			if err := syscall.Lstat(notes, &st); err != nil {
				t.Fatal(err)
			}
			if st.Uid != 1000 || st.Gid != 1000 || st.Mode&0o7777 != 0o640 {
				t.Errorf("the notes are %d:%d %o, want 1000:1000 640", st.Uid, st.Gid, st.Mode&0o7777)
			}
			list := readFile(t, h.private("srv/vendor/list.txt"))
			for _, want := range []string{"link symlink ", "notes.txt file -rw------- 1000:1000 14\n"} {
				if !strings.Contains(list, want) {
					t.Errorf("the old home's listing lacks %q:\n%s", want, list)
				}
			}
			escape := readFile(t, h.private("srv/vendor/escape.txt"))
			if !strings.Contains(escape, "unsafe path") {
				t.Errorf("reading a symlink out of the old area answered %q, want it refused", escape)
			}
		})
	}
}
