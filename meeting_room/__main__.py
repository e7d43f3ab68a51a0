from meeting_room.cli import main

main()
