package pgcluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// POSIX ACL entry tags and the xattr that holds a file's access ACL, as the
// Linux kernel encodes them (include/uapi/linux/posix_acl_xattr.h).
const (
	aclXattr      = "system.posix_acl_access"
	aclVersion    = 2
	aclUserObj    = 0x01
	aclUser       = 0x02
	aclGroupObj   = 0x04
	aclGroup      = 0x08
	aclMask       = 0x10
	aclOther      = 0x20
	aclUndefined  = 0xFFFFFFFF
	aclEntryBytes = 8
)

type aclEntry struct {
	tag, perm uint16
	id        uint32
}

// grantTraverse lets the server's user (uid, gid) search every parent of
// dir it could not search before, by adding a named-user ACL entry with
// only x: no folder is opened to other local users. A filesystem without
// ACLs makes it an error that says where to put the data folder instead.
func grantTraverse(dir string, uid, gid uint32) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !canSearch(st, uid, gid) {
			if err := addUserACL(p, st.Mode().Perm(), uid, 0o1); err != nil {
				return fmt.Errorf("let the PostgreSQL user (uid %d) reach %s: %w; put the data folder where that user can reach it, or set DATABASE_URL", uid, dir, err)
			}
		}
		if p == "/" || p == "." {
			return nil
		}
	}
}

// canSearch tells from the mode bits whether uid/gid may enter st's folder
// (an ACL may allow more; then an entry is added needlessly, harmlessly).
func canSearch(st os.FileInfo, uid, gid uint32) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	m := st.Mode().Perm()
	switch {
	case sys.Uid == uid:
		return m&0o100 != 0
	case sys.Gid == gid:
		return m&0o010 != 0
	}
	return m&0o001 != 0
}

// addUserACL adds perm for uid to path's access ACL (keeping its other
// entries) and widens the mask to cover it.
func addUserACL(path string, mode os.FileMode, uid uint32, perm uint16) error {
	entries := []aclEntry{
		{aclUserObj, uint16(mode>>6) & 7, aclUndefined},
		{aclGroupObj, uint16(mode>>3) & 7, aclUndefined},
		{aclOther, uint16(mode) & 7, aclUndefined},
	}
	buf := make([]byte, 4096)
	if n, err := syscall.Getxattr(path, aclXattr, buf); err == nil && n >= 4 {
		if entries, err = parseACL(buf[:n]); err != nil {
			return err
		}
	} else if err != nil && !errors.Is(err, syscall.ENODATA) {
		return fmt.Errorf("read ACL of %s: %w", path, err)
	}
	var mask, groupClass uint16
	found := false
	out := entries[:0]
	for _, e := range entries {
		switch {
		case e.tag == aclUser && e.id == uid:
			e.perm |= perm
			found = true
		case e.tag == aclMask:
			continue // recomputed below
		}
		if e.tag == aclUser || e.tag == aclGroup || e.tag == aclGroupObj {
			groupClass |= e.perm
		}
		out = append(out, e)
	}
	if !found {
		out = append(out, aclEntry{aclUser, perm, uid})
		groupClass |= perm
	}
	mask = groupClass
	out = append(out, aclEntry{aclMask, mask, aclUndefined})
	sort.Slice(out, func(i, j int) bool {
		if out[i].tag != out[j].tag {
			return out[i].tag < out[j].tag
		}
		return out[i].id < out[j].id
	})
	b := make([]byte, 4, 4+aclEntryBytes*len(out))
	binary.LittleEndian.PutUint32(b, aclVersion)
	for _, e := range out {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	if err := syscall.Setxattr(path, aclXattr, b, 0); err != nil {
		return fmt.Errorf("set ACL of %s: %w", path, err)
	}
	return nil
}

func parseACL(b []byte) ([]aclEntry, error) {
	if len(b) < 4 || binary.LittleEndian.Uint32(b) != aclVersion || (len(b)-4)%aclEntryBytes != 0 {
		return nil, errors.New("unreadable ACL")
	}
	var out []aclEntry
	for p := b[4:]; len(p) > 0; p = p[aclEntryBytes:] {
		out = append(out, aclEntry{binary.LittleEndian.Uint16(p), binary.LittleEndian.Uint16(p[2:]), binary.LittleEndian.Uint32(p[4:])})
	}
	return out, nil
}
