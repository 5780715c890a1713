package inbox

import (
	"context"

	"github.com/colearn/colearn/courses"
)

// batchCourses keeps the local courses looked up while one batch is
// applied, so that a batch of posts to one course reads its row once, not
// once per post. It lives only as long as the batch's transaction and is
// emptied after any activity other than a Create, which might have changed
// a course; a course is never remembered as missing.
type batchCourses struct{ bySlug map[string]courses.Course }

type batchCoursesKey struct{}

// withBatchCourses returns ctx carrying an empty batchCourses.
func withBatchCourses(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchCoursesKey{}, &batchCourses{bySlug: map[string]courses.Course{}})
}

func batchCoursesOf(ctx context.Context) *batchCourses {
	b, _ := ctx.Value(batchCoursesKey{}).(*batchCourses)
	return b
}

// forgetBatchCourses empties ctx's batchCourses, if it has one.
func forgetBatchCourses(ctx context.Context) {
	if b := batchCoursesOf(ctx); b != nil {
		clear(b.bySlug)
	}
}

func (b *batchCourses) get(slug string) (courses.Course, bool) {
	if b == nil {
		return courses.Course{}, false
	}
	c, ok := b.bySlug[slug]
	return c, ok
}

func (b *batchCourses) put(slug string, c courses.Course) {
	if b != nil {
		b.bySlug[slug] = c
	}
}
