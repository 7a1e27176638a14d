"""Host checks for jvb-join doctor: each with a stable id, a status, a detail and a remedy."""
