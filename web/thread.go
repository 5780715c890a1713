package web

// threadView is a discussion with the forms its posts carry. The form
// targets differ between local courses (/courses/{slug}/posts...) and
// remote ones (/remote/posts...); an empty target hides its buttons.
type threadView struct {
	Posts []postView
	// Course is the remote course's IRI, sent with every remote form; ""
	// for local courses, which are named by the path.
	Course                   string
	PostAction               string // replies; "" when the viewer may not post
	EditAction, DeleteAction string // the viewer's own posts
	RemoveAction             string // moderators: anyone's post
}
