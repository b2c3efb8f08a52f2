package templates

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/safefs"
)

// Cache modes: whether Unpack extracts the template's archive or clones an unpacked copy kept next to it, $TEMPLATE/cache/<name>.d.
const (
	// CacheAuto clones when the file system can share file content (reflinks: btrfs,
	// xfs); elsewhere it extracts and keeps no unpacked copy.
	CacheAuto = "auto"
	// CacheAlways clones from the unpacked copy everywhere, copying content in the
	// kernel where it cannot be shared.
	CacheAlways = "always"
	// CacheOff always extracts the archive.
	CacheOff = "off"
)

// Methods Unpack reports.
const (
	MethodUntar = "untar" // extracted from the archive
	MethodClone = "clone" // cloned from the unpacked template cache
)

// cacheFormat changes when the layout of <name>.d changes; older caches are rebuilt.
const cacheFormat = 1

// Unpack fills dest, an empty directory, with the template archive in mode (CacheAuto, CacheAlways, CacheOff): a clone of the unpacked template cache
// (built from the archive on first use) or an extraction of the archive. log receives
// what the operator should know (may be nil); progress as for safefs.Untar.
func Unpack(ctx context.Context, archive, dest, mode string, log func(string), progress func(safefs.Stats)) (string, safefs.Stats, error) {
	if log == nil {
		log = func(string) {}
	}
	if mode != CacheOff && cacheUsable(archive, dest, mode) {
		cache := CacheDir(archive)
		stats, err := cloneFromCache(ctx, archive, cache, dest, log, progress)
		if err == nil {
			return MethodClone, stats.Stats, nil
		}
		if ctx.Err() != nil {
			return MethodClone, stats.Stats, err
		}
		log(fmt.Sprintf("the unpacked template cache cannot be used (%v); extracting the archive instead", err))
	}
	stats, err := safefs.Untar(ctx, archive, dest, progress)
	return MethodUntar, stats, err
}

// CacheDir is where the unpacked copy of archive lives: $TEMPLATE/cache/<name>.d.
func CacheDir(archive string) string {
	base := filepath.Base(archive)
	for _, suffix := range safefs.Suffixes {
		if name, ok := strings.CutSuffix(base, suffix); ok && suffix != ".tar" {
			return filepath.Join(filepath.Dir(archive), name+".d")
		}
	}
	return filepath.Join(filepath.Dir(archive), strings.TrimSuffix(base, ".tar")+".d")
}

// cacheUsable says whether mode clones into dest: always does; auto only when the cache
// and dest are on one file system that can share file content.
func cacheUsable(archive, dest, mode string) bool {
	if mode == CacheAlways {
		return true
	}
	var cst, dst unix.Stat_t
	if unix.Stat(filepath.Dir(archive), &cst) != nil || unix.Stat(dest, &dst) != nil || cst.Dev != dst.Dev {
		return false
	}
	return safefs.CanReflink(dest)
}

// stamp identifies the archive a cache was unpacked from; any change rebuilds it.
type stamp struct {
	Format  int    `json:"format"`
	Archive string `json:"archive"`
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
}

func stampOf(archive string) (stamp, error) {
	var st unix.Stat_t
	if err := unix.Stat(archive, &st); err != nil {
		return stamp{}, fmt.Errorf("template %s: %w", archive, err)
	}
	return stamp{Format: cacheFormat, Archive: filepath.Base(archive), Dev: st.Dev, Ino: st.Ino,
		Size: st.Size, MtimeNs: st.Mtim.Nano()}, nil
}

// cloneFromCache clones the cache's tree into dest, building or rebuilding the cache first
// when it is missing or was unpacked from another archive. Clones hold a shared lock on
// the cache directory, builders an exclusive one, so no tree is replaced while cloned.
func cloneFromCache(ctx context.Context, archive, cache, dest string, log func(string), progress func(safefs.Stats)) (safefs.CloneStats, error) {
	lock, err := os.Open(filepath.Dir(cache))
	if err != nil {
		return safefs.CloneStats{}, err
	}
	defer lock.Close()
	for attempt := 0; attempt < 3; attempt++ {
		want, err := stampOf(archive)
		if err != nil {
			return safefs.CloneStats{}, err
		}
		if err := flock(ctx, lock, unix.LOCK_SH); err != nil {
			return safefs.CloneStats{}, err
		}
		if readStamp(cache) == want {
			log("cloning the unpacked template cache " + cache)
			stats, err := safefs.CloneTree(ctx, filepath.Join(cache, "tree"), dest, progress)
			unix.Flock(int(lock.Fd()), unix.LOCK_UN)
			return stats, err
		}
		unix.Flock(int(lock.Fd()), unix.LOCK_UN)
		if err := flock(ctx, lock, unix.LOCK_EX); err != nil {
			return safefs.CloneStats{}, err
		}
		stale := ""
		if readStamp(cache) != want {
			log("building the unpacked template cache " + cache)
			stale, err = buildCache(ctx, archive, cache, want)
		}
		unix.Flock(int(lock.Fd()), unix.LOCK_UN)
		if stale != "" {
			_ = safefs.RemoveTree(stale) // outside the lock: clones need not wait for it
		}
		if err != nil {
			return safefs.CloneStats{}, err
		}
	}
	return safefs.CloneStats{}, errors.New("the template keeps changing while its cache is built")
}

// buildCache unpacks archive into a fresh directory next to cache and renames it into
// place, so a cache is complete or absent. It returns the replaced cache, now renamed
// aside, for the caller to delete. The caller holds the exclusive lock.
func buildCache(ctx context.Context, archive, cache string, want stamp) (stale string, err error) {
	removeLeftovers(cache)
	tmp := cache + ".tmp-" + randomSuffix()
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return "", fmt.Errorf("template cache: %w", err)
	}
	defer func() {
		if err != nil {
			_ = safefs.RemoveTree(tmp)
		}
	}()
	tree := filepath.Join(tmp, "tree")
	if err := os.Mkdir(tree, 0o700); err != nil {
		return "", fmt.Errorf("template cache: %w", err)
	}
	if _, err := safefs.Untar(ctx, archive, tree, nil); err != nil {
		return "", fmt.Errorf("template cache: %w", err)
	}
	if got, err := stampOf(archive); err != nil || got != want {
		return "", errors.New("template cache: the template changed while it was unpacked")
	}
	data, _ := json.Marshal(want)
	if err := writeSynced(filepath.Join(tmp, "stamp.json"), data); err != nil {
		return "", fmt.Errorf("template cache: %w", err)
	}
	if _, err := os.Lstat(cache); err == nil {
		stale = cache + ".stale-" + randomSuffix()
		if err := safefs.Rename(cache, stale); err != nil {
			return "", fmt.Errorf("template cache: set the old cache aside: %w", err)
		}
	}
	if err := safefs.Rename(tmp, cache); err != nil {
		return stale, fmt.Errorf("template cache: %w", err)
	}
	return stale, nil
}

// removeLeftovers deletes what builders that died left next to cache.
func removeLeftovers(cache string) {
	matches, _ := filepath.Glob(cache + ".tmp-*")
	stale, _ := filepath.Glob(cache + ".stale-*")
	for _, m := range append(matches, stale...) {
		_ = safefs.RemoveTree(m)
	}
}

func readStamp(cache string) stamp {
	var s stamp
	data, err := os.ReadFile(filepath.Join(cache, "stamp.json"))
	if err == nil {
		_ = json.Unmarshal(data, &s)
	}
	return s
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// flock takes the lock, waiting as long as ctx allows.
func flock(ctx context.Context, f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
