from django.urls import path

from connectors.synchroteam import views

app_name = "synchroteam"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("board/", views.job_board, name="board"),
    path("new/", views.job_new, name="job_new"),
    path("requests/<uuid:batch_uuid>/", views.job_request, name="job_request"),
    path("<int:job_id>/", views.job_detail, name="job_detail"),
    path("<int:job_id>/schedule/", views.job_schedule, name="job_schedule"),
]
