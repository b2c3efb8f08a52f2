package main

import (
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// hostSources are where the large template's content comes from: real binaries,
// libraries and documentation of this host, so that it compresses like an OS does.
var hostSources = []string{"/usr/share", "/usr/bin", "/usr/lib"}

// maxHostFile skips huge single files (a toolchain's archives), keeping an OS-like mix.
const maxHostFile = 16 << 20

// buildLargeRootfs lays out the busybox OS in dir and adds files copied from this host's
// /usr, each source contributing an equal share, until the tree holds about size bytes.
func buildLargeRootfs(dir string, size int64) (files int, total int64, err error) {
	if err := testenv.BuildRootfs(dir, "large"); err != nil {
		return 0, 0, err
	}
	share := size / int64(len(hostSources))
	for _, src := range hostSources {
		n, b, err := copyHostFiles(src, filepath.Join(dir, src), share)
		if err != nil {
			return 0, 0, err
		}
		files, total = files+n, total+b
	}
	return files, total, nil
}

// copyHostFiles copies regular files and symlinks of src (in walk order) into dst until
// budget bytes are copied. Unreadable entries are skipped.
func copyHostFiles(src, dst string, budget int64) (files int, total int64, err error) {
	errDone := fmt.Errorf("budget reached")
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: skip
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err == nil {
				_ = os.Symlink(link, target)
			}
			return nil
		case !d.Type().IsRegular():
			return nil
		}
		fi, err := d.Info()
		if err != nil || fi.Size() > maxHostFile {
			return nil
		}
		if err := copyFile(p, target, fi.Mode().Perm()); err != nil {
			return nil
		}
		files++
		total += fi.Size()
		if total >= budget {
			return errDone
		}
		return nil
	})
	if err == errDone {
		err = nil
	}
	return files, total, err
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// fillCustomerData writes files files totalling about size bytes under dir/home/customer,
// 100 per directory, sizes spread from 1/4 to 7/4 of the mean, content incompressible.
func fillCustomerData(dir string, size int64, files int) error {
	if files <= 0 || size <= 0 {
		return nil
	}
	mean := size / int64(files)
	pool := make([]byte, 8<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range pool {
		pool[i] = byte(rng.Uint32())
	}
	const perDir, workers = 100, 4
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range jobs {
				d := filepath.Join(dir, "home/customer", fmt.Sprintf("d%04d", i/perDir))
				n := min(mean/4+r.Int64N(mean*3/2+1), int64(len(pool)/2))
				off := r.Int64N(int64(len(pool)) - n)
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%06d", i)), pool[off:off+n], 0o644); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range files {
		if i%perDir == 0 {
			// Directories are made here, before any of their files is handed out.
			if err = os.MkdirAll(filepath.Join(dir, "home/customer", fmt.Sprintf("d%04d", i/perDir)), 0o755); err != nil {
				break
			}
		}
		select {
		case jobs <- i:
		case err = <-errs:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}
