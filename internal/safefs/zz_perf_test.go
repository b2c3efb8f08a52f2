package safefs

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func mkMany(t *testing.T, root string, dirs, per int) {
	os.Mkdir(root, 0o755)
	for d := 0; d < dirs; d++ {
		dir := mustMkdir(t, filepath.Join(root, fmt.Sprintf("d%03d", d)))
		dfd, _ := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		for f := 0; f < per; f++ {
			must(t, unix.Mknodat(dfd, fmt.Sprintf("f%04d", f), unix.S_IFREG|0o644, 0))
		}
		unix.Close(dfd)
	}
}

func parRemove(t *testing.T, root string, n int) {
	fd, _ := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	defer unix.Close(fd)
	ents, _ := os.ReadDir(root)
	ch := make(chan string)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range ch {
				if err := removeDirAt(fd, name); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for _, e := range ents {
		ch <- e.Name()
	}
	close(ch)
	wg.Wait()
	os.Remove(root)
}

func TestZZPar(t *testing.T) {
	for _, where := range []string{"tmpfs", "ext4"} {
		base := t.TempDir()
		dirs := 100
		if where == "tmpfs" {
			must(t, unix.Mount("tmpfs", base, "tmpfs", 0, "size=64m,nr_inodes=400k"))
			defer unix.Unmount(base, unix.MNT_DETACH)
		} else {
			dirs = 20
		}
		for round := 0; round < 2; round++ {
			for _, n := range []int{1, 2, 4} {
				root := filepath.Join(base, fmt.Sprintf("r%d-%d", round, n))
				mkMany(t, root, dirs, 1000)
				unix.Sync()
				start := time.Now()
				if n == 1 {
					must(t, RemoveTree(root))
				} else {
					parRemove(t, root, n)
				}
				t.Logf("%s %dk workers=%d: %v", where, dirs, n, time.Since(start))
			}
		}
	}
}
