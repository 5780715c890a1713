package federation

import (
	"github.com/valyala/fastjson"
)

// CourseTerm is the full IRI of colearn's course marker: a Group whose
// document says `"colearn:course": true` (with the colearn prefix bound to
// Namespace) is a colearn course, enrolled in with Join; any other Group is
// joined with Follow, as Lemmy, Mbin, PieFed, Friendica and Guppe expect.
const CourseTerm = Namespace + "course"

// isColearnCourse reports whether the actor document v marks itself as a
// colearn course: `"colearn:course": true` where its @context binds the
// prefix colearn to Namespace, or the term's full IRI set to true. A peer
// that claims it falsely only gets a Join it may refuse.
func isColearnCourse(v *fastjson.Value) bool {
	if v.GetBool(CourseTerm) {
		return true
	}
	return v.GetBool("colearn:course") && bindsColearnPrefix(v.Get("@context"))
}

// bindsColearnPrefix reports whether a @context (a string, an object or a
// list of them) maps the prefix colearn to Namespace.
func bindsColearnPrefix(ctx *fastjson.Value) bool {
	if ctx == nil {
		return false
	}
	switch ctx.Type() {
	case fastjson.TypeArray:
		for _, c := range ctx.GetArray() {
			if bindsColearnPrefix(c) {
				return true
			}
		}
	case fastjson.TypeObject:
		return string(ctx.GetStringBytes("colearn")) == Namespace
	}
	return false
}
