// response_mode=form_post (OAuth 2.0 Form Post Response Mode): the answer goes back to the
// service as a POST of this page's form. Without JavaScript the person presses Continue.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("form-post");
  if (form) form.submit();
});
