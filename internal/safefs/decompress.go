package safefs

import (
	"bufio"
	"compress/bzip2"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
	"github.com/ulikunitz/xz"
)

// Suffixes lists the template cache suffixes Decompress understands, in the contract's
// lookup order (§1).
var Suffixes = []string{".tar", ".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2"}

// readBufSize is the read-ahead on the archive file (and on a plain tar stream).
const readBufSize = 1 << 20

// Decompress opens the archive at path and returns a reader of its tar stream, chosen by
// suffix: pgzip for gzip (parallel), klauspost zstd, ulikunitz xz, stdlib bzip2.
func Decompress(path string) (io.ReadCloser, error) {
	kind, ok := compressionOf(path)
	if !ok {
		return nil, fmt.Errorf("decompress %s: unknown suffix (want one of %s)", path, strings.Join(Suffixes, ", "))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("decompress %s: %w", path, err)
	}
	r, closeFn, err := newDecompressor(kind, f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("decompress %s: %w", path, err)
	}
	return &decompressed{Reader: r, file: f, closeFn: func() error {
		if closeFn != nil {
			closeFn()
		}
		return f.Close()
	}}, nil
}

// compressionOf maps a file name to the suffix naming its compression.
func compressionOf(path string) (string, bool) {
	aliases := map[string]string{".tgz": ".tar.gz", ".tzst": ".tar.zst", ".txz": ".tar.xz", ".tbz2": ".tar.bz2"}
	for alias, kind := range aliases {
		if strings.HasSuffix(path, alias) {
			return kind, true
		}
	}
	for _, kind := range Suffixes {
		if strings.HasSuffix(path, kind) {
			return kind, true
		}
	}
	return "", false
}

func newDecompressor(kind string, f *os.File) (io.Reader, func(), error) {
	switch kind {
	case ".tar.gz":
		zr, err := pgzip.NewReader(f)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	case ".tar.zst":
		zr, err := zstd.NewReader(bufio.NewReaderSize(f, readBufSize))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	case ".tar.xz":
		zr, err := xz.NewReader(bufio.NewReaderSize(f, readBufSize))
		if err != nil {
			return nil, nil, err
		}
		return zr, nil, nil
	case ".tar.bz2":
		return bzip2.NewReader(bufio.NewReaderSize(f, readBufSize)), nil, nil
	default:
		return bufio.NewReaderSize(f, readBufSize), nil, nil
	}
}

type decompressed struct {
	io.Reader
	file    *os.File // the archive, whose offset tells how much of it was read
	closeFn func() error
}

// archiveRead is how many bytes of the archive behind r were read so far.
func archiveRead(r io.Reader) int64 {
	d, ok := r.(*decompressed)
	if !ok {
		return 0
	}
	off, _ := d.file.Seek(0, io.SeekCurrent)
	return off
}

func (d *decompressed) Close() error { return d.closeFn() }
