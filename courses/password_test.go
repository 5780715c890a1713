package courses

import (
	"regexp"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h1, err := hashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hashPassword("correct horse battery")
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h1) {
		t.Fatalf("not PHC: %s", h1)
	}
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name, hash, password string
		want, wantErr        bool
	}{
		{"right", h1, "correct horse battery", true, false},
		{"wrong", h1, "correct horse batterY", false, false},
		{"empty", h1, "", false, false},
		{"dummy", dummyHash, "anything at all", false, false},
		{"other params", "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x", false, false},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuu", "x", false, true},
		{"bad version", "$argon2id$v=16$m=8,t=1,p=1$c29tZQ$c29tZQ", "x", false, true},
		{"bad params", "$argon2id$v=19$m=0,t=1,p=1$c29tZQ$c29tZQ", "x", false, true},
		{"bad salt", "$argon2id$v=19$m=8,t=1,p=1$!!$c29tZQ", "x", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkPassword(tt.hash, tt.password)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("checkPassword = %v, %v; want %v, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
