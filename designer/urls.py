from django.urls import path

from designer import views

app_name = "designer"

urlpatterns = [
    path("", views.process_list, name="list"),
    path("new/", views.process_new, name="new"),
    path("import/", views.process_import, name="import"),
    path("<str:key>/", views.editor, name="editor"),
    path("<str:key>/draft/", views.draft, name="draft"),
    path("<str:key>/panel/", views.panel, name="panel"),
    path("<str:key>/validate/", views.validate, name="validate"),
    path("<str:key>/deploy/", views.deploy, name="deploy"),
    path("<str:key>/versions/", views.version_list, name="versions"),
    path("<str:key>/versions/<int:number>/", views.version_detail, name="version"),
    path("<str:key>/versions/<int:number>/bpmn/", views.version_xml, name="version-xml"),
    path("<str:key>/diff/", views.version_diff, name="diff"),
    path("<str:key>/start/", views.instance_start_view, name="start"),
]
