package federation

import "testing"

// TestParseCourseDocReadsNamesExactly: a member name that differs from the
// vocabulary's only in case is not the vocabulary's. encoding/json would
// let "NAME" and "TYPE" overwrite "name" and "type"; go-ap ignores them,
// and so must the co-host mirror, or one document reads two ways.
func TestParseCourseDocReadsNamesExactly(t *testing.T) {
	d, err := ParseCourseDoc([]byte(`{"id":"https://a.example/courses/c","type":"Group","TYPE":"Person",
		"name":"Real name","NAME":"Forged name","modules":"https://a.example/courses/c/modules","MODULES":"https://b.example/m"}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Type != "Group" || d.Name != "Real name" || d.Modules != "https://a.example/courses/c/modules" {
		t.Errorf("read %+v, want the exactly named members", d)
	}
	m, err := ParseModuleDoc([]byte(`{"id":"https://a.example/courses/c/modules/1","type":"Article","context":"https://a.example/courses/c",
		"name":"Module one","Name":"Forged","content":"<p>ok</p>","CONTENT":"<script>"}`), "https://a.example/courses/c")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Module one" || m.Content != "<p>ok</p>" {
		t.Errorf("read %+v, want the exactly named members", m)
	}
	if _, err := ParseCourseDoc([]byte(`{"id":"https://a.example/courses/c","type":"Group","name":"a","name":"b"}`)); err == nil {
		t.Errorf("a course document with a duplicate member was read")
	}
}
