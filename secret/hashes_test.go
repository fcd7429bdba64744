package secret

import (
	"crypto/rand"
	"strings"
	"testing"
)

// Vectors made by other implementations: the OpenWall bcrypt set, and
// Python's hashlib for PBKDF2 (Django's form) and scrypt.
const (
	bcryptVector = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW" // "U*U"
	djangoVector = "pbkdf2_sha256$1000$seasalt1234$YbrviBcdDDY/1vcx6H6UmJlKcwxzxbqs/BfM9pW/YRI="
	scryptVector = "$scrypt$ln=10,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg$3jrzE3K0kokmN0/jMY6RQyghrV6xoNCQUwg2/BasJ/8"
	importedPW   = "Imported-pw-1"
)

func TestImportedHashesVerify(t *testing.T) {
	t.Parallel()
	django, err := ImportHash(djangoVector)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(django, "$pbkdf2-sha256$i=1000$") {
		t.Fatalf("ImportHash(django) = %q, want the PHC form", django)
	}
	argon, _ := HashPassword(cheap, importedPW, rand.Reader)
	tests := []struct {
		name, hash, right string
	}{
		{"bcrypt 2a", bcryptVector, "U*U"},
		{"bcrypt 2b", strings.Replace(bcryptVector, "$2a$", "$2b$", 1), "U*U"},
		{"bcrypt 2y", strings.Replace(bcryptVector, "$2a$", "$2y$", 1), "U*U"},
		{"pbkdf2 from django", django, importedPW},
		{"scrypt", scryptVector, importedPW},
		{"argon2id", argon, importedPW},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, err := ImportHash(tt.hash); err != nil || got != tt.hash {
				t.Errorf("ImportHash = %q, %v; want it kept as it is", got, err)
			}
			if ok, err := VerifyPassword(tt.hash, tt.right); !ok || err != nil {
				t.Errorf("VerifyPassword(right) = %v, %v", ok, err)
			}
			if ok, err := VerifyPassword(tt.hash, tt.right+"x"); ok || err != nil {
				t.Errorf("VerifyPassword(wrong) = %v, %v", ok, err)
			}
			if !NeedsRehash(tt.hash, DefaultParams) {
				t.Error("NeedsRehash = false; an imported hash must be upgraded at the next login")
			}
		})
	}
}

func TestImportHashRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, hash, want string }{
		{"empty", "", "unknown hash format"},
		{"md5 crypt", "$1$salt$hash", "unknown hash format"},
		{"plain text", "hunter2", "unknown hash format"},
		{"bcrypt short", "$2b$05$CCCC", "bcrypt"},
		{"bcrypt too costly", strings.Replace(bcryptVector, "$05$", "$20$", 1), "cost 20"},
		{"django no salt", "pbkdf2_sha256$1000$$YbrviBcdDDY=", "Django"},
		{"django bad iterations", "pbkdf2_sha256$x$salt1234$YbrviBcdDDY=", "Django"},
		{"pbkdf2 too many iterations", "$pbkdf2-sha256$i=99999999$c2Vhc2FsdDEyMzQ$YbrviBcdDDY/1vcx6H6UmJlKcwxzxbqs/BfM9pW/YRI", "iterations"},
		{"pbkdf2 short salt", "$pbkdf2-sha256$i=1000$c2Fs$YbrviBcdDDY/1vcx6H6UmJlKcwxzxbqs/BfM9pW/YRI", "PBKDF2"},
		{"scrypt huge", strings.Replace(scryptVector, "ln=10", "ln=24", 1), "MiB"},
		{"scrypt garbled", "$scrypt$ln=10,r=8$x$y", "scrypt"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "unknown hash format"},
		{"argon2id huge", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "parameters beyond"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ImportHash(tt.hash)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ImportHash(%q) = %v, want an error with %q", tt.hash, err, tt.want)
			}
		})
	}
}

func TestForeignHashMalformedAtVerify(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"$2b$05$short", "$pbkdf2-sha256$i=0$x$y", "$scrypt$ln=99,r=8,p=1$x$y"} {
		if _, err := VerifyPassword(h, "x"); err != ErrMalformedHash {
			t.Errorf("VerifyPassword(%q) error = %v, want ErrMalformedHash", h, err)
		}
	}
}
