// Package web serves colearn's server-rendered HTML pages: the start page,
// sign-up, sign-in and sign-out, profiles, the admin settings, the course
// catalogue and course pages (lessons, threaded discussion, roster and the
// moderators' forms), and the pages for courses on other servers that local
// users joined. What people do on the course pages runs through
// outbox.Actions, so the activities it causes are published in the same
// transaction.
//
// Content that reaches a page as HTML (summaries, lessons, posts) has passed
// through courses.Content's sanitiser; it is the only text marked
// template.HTML.
//
// Sessions are kept in PostgreSQL (scs with its pgx store, table sessions);
// the cookie is HttpOnly, SameSite=Lax, and Secure unless the instance runs
// over plain http in development. The session token is renewed on sign-in and
// the session destroyed on sign-out, so a token planted before sign-in is
// worthless afterwards.
//
// CSRF protection is net/http's CrossOriginProtection, wrapped around every
// page: a non-safe request (POST and friends) that the browser marks as
// cross-site with Sec-Fetch-Site, or whose Origin does not match the Host, is
// refused with 403 before any handler or session code runs. There are no
// per-form tokens: all browsers that colearn supports send Sec-Fetch-Site or
// Origin, and SameSite=Lax cookies are a second line. Pages therefore never
// change state on GET.
//
// All output goes through html/template, so user-supplied text (display
// names, summaries) is escaped.
package web
