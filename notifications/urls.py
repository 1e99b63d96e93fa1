from django.urls import path

from notifications import views

urlpatterns = [
    path("notification/", views.NotificationListView.as_view(), name="notification-list"),
    path("notification/unread", views.UnreadView.as_view(), name="notification-unread"),
    path("notification/read", views.ReadView.as_view(), name="notification-read"),
    path("notification/settings", views.SettingsView.as_view(), name="notification-settings"),
    path("notification/device", views.DeviceView.as_view(), name="notification-device"),
]
