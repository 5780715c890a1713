package outbox

import (
	vocab "github.com/go-ap/activitypub"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// Groups that are not colearn courses (Lemmy, Mbin, PieFed, Friendica,
// Guppe) are enrolled in with Follow, never Join, and left with
// Undo(Follow); posts to them follow FEP-1b12 (FEDERATION.md, "Groups that
// are not colearn courses").

// enrollRequest is the activity, with id id, that asks the group ra to enroll u: Join
// for a colearn course, Follow for any other group, and the enrollment's
// via to record with it.
func (a *Actions) enrollRequest(id string, u courses.User, ra federation.RemoteActor) (*vocab.Activity, string) {
	t, via := vocab.FollowType, courses.EnrollFollow
	if ra.ColearnCourse {
		t, via = vocab.JoinType, courses.EnrollJoin
	}
	return federation.NewActivity(id, t, a.userIRI(u), vocab.IRI(ra.IRI), "", []string{ra.IRI}, nil), via
}

// leaveRequest is the activity that ends u's enrollment e: Leave of a
// colearn course; for a followed group, Undo of the Follow, embedded with
// its own id, since Lemmy checks that the Follow it undoes is the actor's.
func (a *Actions) leaveRequest(u courses.User, e courses.Enrollment) *vocab.Activity {
	id := a.urls().Activity(federation.NewID())
	if e.Via != courses.EnrollFollow {
		return federation.NewActivity(id, vocab.LeaveType, a.userIRI(u), vocab.IRI(e.CourseIRI), "", []string{e.CourseIRI}, nil)
	}
	follow := federation.NewActivity(e.RequestID, vocab.FollowType, a.userIRI(u), vocab.IRI(e.CourseIRI), "", []string{e.CourseIRI}, nil)
	return federation.NewActivity(id, vocab.UndoType, a.userIRI(u), follow, "", []string{e.CourseIRI}, nil)
}

// postAddressing is how u's post in the remote group ra is addressed: a
// colearn course as ever (to the course and the public, cc its followers);
// any other group as FEP-1b12 and Lemmy expect, to the group with the
// public in cc. Both carry audience the group.
func postAddressing(ra federation.RemoteActor) (to, cc []string) {
	if ra.ColearnCourse {
		return []string{ra.IRI, federation.Public}, []string{federation.Followers(ra.IRI)}
	}
	return []string{ra.IRI}, []string{federation.Public}
}
