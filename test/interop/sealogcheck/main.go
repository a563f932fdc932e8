// sealogcheck checks sealog's checkpoints, proof bundles and tiles with the Go
// reference implementations of signed notes and transparency logs
// (golang.org/x/mod/sumdb/note and sumdb/tlog), which know nothing of sealog.
//
//	sealogcheck -key PUB [-tiles DIR] [BUNDLE.json ...]
//
// Prints one JSON line; exit 0 when everything checks, 1 otherwise.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type bundle struct {
	Type          string   `json:"type"`
	Origin        string   `json:"origin"`
	LeafIndex     int64    `json:"leaf_index"`
	TreeSize      int64    `json:"tree_size"`
	Record        string   `json:"record"`
	Proof         []string `json:"proof"`
	Checkpoint    string   `json:"checkpoint"`
	OldSize       int64    `json:"old_size"`
	NewSize       int64    `json:"new_size"`
	OldCheckpoint string   `json:"old_checkpoint"`
	NewCheckpoint string   `json:"new_checkpoint"`
}

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

func fail(format string, args ...interface{}) {
	out, _ := json.Marshal(map[string]interface{}{"ok": false, "error": fmt.Sprintf(format, args...)})
	fmt.Println(string(out))
	os.Exit(1)
}

// openCheckpoint verifies the note's signature with note.Open and parses the C2SP checkpoint body.
func openCheckpoint(text []byte, verifiers note.Verifiers) checkpoint {
	n, err := note.Open(text, verifiers)
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		fail("checkpoint body is not origin/size/root")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	h, err2 := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || err2 != nil || len(h) != tlog.HashSize {
		fail("checkpoint body is not origin/size/root")
	}
	var root tlog.Hash
	copy(root[:], h)
	return checkpoint{lines[0], tlog.Tree{N: size, Hash: root}}
}

// leafHash is the sealog leaf: SHA-256(0x00 || the stored line without its hash member).
func leafHash(line []byte) tlog.Hash {
	const suffix = len(`,"hash":"`) + 64 + len(`"}`)
	if len(line) <= suffix || !bytes.HasPrefix(line[len(line)-suffix:], []byte(`,"hash":"`)) {
		fail("record line does not end with its hash member")
	}
	body := append(append([]byte{}, line[:len(line)-suffix]...), '}')
	h := tlog.RecordHash(body)
	if fmt.Sprintf("%x", h[:]) != string(line[len(line)-suffix+9:len(line)-2]) {
		fail("record hash does not match its contents")
	}
	return h
}

func hashes(proof []string) []tlog.Hash {
	out := make([]tlog.Hash, len(proof))
	for i, p := range proof {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil || len(b) != tlog.HashSize {
			fail("proof hash %d is not base64 of 32 bytes", i)
		}
		copy(out[i][:], b)
	}
	return out
}

// tileDir serves C2SP tlog-tiles paths (tile/<L>/<N>, no height element) to tlog's TileHashReader.
type tileDir string

func (d tileDir) Height() int { return 8 }
func (d tileDir) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := "tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
		b, err := os.ReadFile(filepath.Join(string(d), p))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (d tileDir) SaveTiles([]tlog.Tile, [][]byte) {}

func main() {
	key := flag.String("key", "", "verifier key file")
	tiles := flag.String("tiles", "", "a directory written by sealog tiles")
	flag.Parse()
	keyText, err := os.ReadFile(*key)
	if err != nil {
		fail("read key: %v", err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(keyText)))
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	verifiers := note.VerifierList(v)
	result := map[string]interface{}{"ok": true}
	inclusion, consistency := 0, 0
	for _, file := range flag.Args() {
		data, err := os.ReadFile(file)
		if err != nil {
			fail("read %s: %v", file, err)
		}
		var b bundle
		if err := json.Unmarshal(data, &b); err != nil {
			fail("%s: %v", file, err)
		}
		switch b.Type {
		case "sealog.inclusion.v1":
			cp := openCheckpoint([]byte(b.Checkpoint), verifiers)
			if cp.origin != b.Origin || cp.tree.N != b.TreeSize {
				fail("%s: origin or tree size is not the checkpoint's", file)
			}
			if err := tlog.CheckRecord(hashes(b.Proof), cp.tree.N, cp.tree.Hash, b.LeafIndex, leafHash([]byte(b.Record))); err != nil {
				fail("%s: tlog.CheckRecord: %v", file, err)
			}
			inclusion++
		case "sealog.consistency.v1":
			old := openCheckpoint([]byte(b.OldCheckpoint), verifiers)
			cur := openCheckpoint([]byte(b.NewCheckpoint), verifiers)
			if old.tree.N != b.OldSize || cur.tree.N != b.NewSize {
				fail("%s: sizes are not the checkpoints'", file)
			}
			if err := tlog.CheckTree(hashes(b.Proof), cur.tree.N, cur.tree.Hash, old.tree.N, old.tree.Hash); err != nil {
				fail("%s: tlog.CheckTree: %v", file, err)
			}
			consistency++
		default:
			fail("%s: unknown bundle type %q", file, b.Type)
		}
	}
	if *tiles != "" {
		text, err := os.ReadFile(filepath.Join(*tiles, "checkpoint"))
		if err != nil {
			fail("read checkpoint: %v", err)
		}
		cp := openCheckpoint(text, verifiers)
		// TileHashReader checks every tile it reads against the tree before handing out its hashes.
		r := tlog.TileHashReader(cp.tree, tileDir(*tiles))
		root, err := tlog.TreeHash(cp.tree.N, r)
		if err != nil || root != cp.tree.Hash {
			fail("tile hashes do not recompute the checkpoint root: %v", err)
		}
		// Every tile of every level: the reader proves each tile it loads against the tree.
		for level := 0; level < 64 && cp.tree.N>>uint(level) > 0; level += 8 {
			var indexes []int64
			for i := int64(0); i < cp.tree.N>>uint(level); i++ {
				indexes = append(indexes, tlog.StoredHashIndex(level, i))
			}
			if _, err := r.ReadHashes(indexes); err != nil {
				fail("tiles of tree level %d do not prove against the checkpoint: %v", level, err)
			}
		}
		// Each entry hashes (as a sealog leaf) to its level-0 hash.
		for n := int64(0); n*256 < cp.tree.N; n++ {
			w := cp.tree.N - n*256
			if w > 256 {
				w = 256
			}
			t := tlog.Tile{H: 8, L: 0, N: n, W: int(w)}
			data, err := tileDir(*tiles).ReadTiles([]tlog.Tile{t})
			if err != nil {
				fail("read tile: %v", err)
			}
			entries, err := os.ReadFile(filepath.Join(*tiles, "tile/entries/"+strings.TrimPrefix(t.Path(), "tile/8/0/")))
			if err != nil {
				fail("read entries: %v", err)
			}
			for i := int64(0); i < w; i++ {
				if len(entries) < 2 {
					fail("entry bundle %d is short", n)
				}
				l := int(binary.BigEndian.Uint16(entries))
				h := leafHash(entries[2 : 2+l])
				if !bytes.Equal(h[:], data[0][32*i:32*i+32]) {
					fail("entry %d does not hash to its tile hash", n*256+i)
				}
				entries = entries[2+l:]
			}
		}
		result["tree_size"] = cp.tree.N
	}
	result["inclusion"] = inclusion
	result["consistency"] = consistency
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}
